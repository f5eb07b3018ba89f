import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { type BenchOptions, parseBenchOptions } from "./bench-options.ts";
import { hugePages, loadAverage } from "./bench-processes.ts";
import { type BenchRun, verdict, writeReports } from "./bench-report.ts";
import { PEER_NAMES, type PeerName, type PeerRun, peerRun, peersInit } from "./ledger-peers.ts";
import { dropDatabase, type PgbenchRun, pgbenchInit, pgbenchRun, serverFacts } from "./pg-reference.ts";
import { runScenario } from "./run-scenario.ts";
import { SCENARIOS } from "./scenarios.ts";

/**
 * `npm run bench [-- options]`: the reference (pgbench TPC-B on the same Postgres, before and
 * after), then each scenario on a fresh system, then JSON, Markdown and SVG charts in
 * bench-results/. Exits 1 when a target fails or a scenario errs (see docs/performance.md).
 */

const ROOT = resolve(import.meta.dirname, "../..");
/** Rate open loops use when neither --rate nor a uniform scenario gives one. */
const DEFAULT_PEAK = 2_000;

async function reference(o: BenchOptions, database: string, when: string): Promise<PgbenchRun | undefined> {
  try {
    const r = await pgbenchRun(o.pgUrl, database, { clients: 16, threads: 2, seconds: o.pgbenchSeconds });
    console.log(
      `bench: pgbench ${when}: ${r.tps} tps (${r.latencyMs} ms average, machine ${r.machineUsPerTransaction} µs per transaction, load ${loadAverage()})`,
    );
    return r;
  } catch (err) {
    console.error(`bench: pgbench ${when} failed: ${String(err)}`);
    return undefined;
  }
}

/** The rounded mean of `read` over the runs that happened; 0 when none did. */
const mean = <T>(runs: T[], read: (r: T) => number): number =>
  runs.length ? Math.round(runs.reduce((sum, r) => sum + read(r), 0) / runs.length) : 0;

/** A reference's runs before and after the scenarios, as the report keeps them, and those that happened. */
function beforeAfter<T>(before: T | undefined, after: T | undefined) {
  return {
    kept: { ...(before ? { before } : {}), ...(after ? { after } : {}) },
    runs: [before, after].filter((r): r is T => r !== undefined),
  };
}

/** Each ledger peer once (ledger-peers.ts), on the database `peersInit` made. */
async function peers(
  o: BenchOptions,
  database: string,
  when: string,
): Promise<Partial<Record<PeerName, PeerRun>>> {
  const runs: Partial<Record<PeerName, PeerRun>> = {};
  for (const name of PEER_NAMES) {
    try {
      const r = await peerRun(o.pgUrl, database, name, o.pgbenchSeconds);
      console.log(
        `bench: ledger peer ${name} ${when}: ${r.transfersPerSec} transfers/s (machine ${r.machineUsPerTransfer} µs per transfer)`,
      );
      runs[name] = r;
    } catch (err) {
      console.error(`bench: ledger peer ${name} ${when} failed: ${String(err)}`);
    }
  }
  return runs;
}

async function main(): Promise<number> {
  const o = parseBenchOptions(process.argv.slice(2));
  const startedAt = new Date();
  const runId = `${startedAt.getTime().toString(36)}${randomBytes(2).toString("hex")}`;
  const outDir = resolve(o.out ?? join(ROOT, "bench-results", startedAt.toISOString().replace(/[:.]/g, "-")));
  mkdirSync(outDir, { recursive: true });
  const load1Start = loadAverage();
  console.log(`bench: results in ${outDir}; load average ${load1Start}; ${cpus().length} cores`);

  const server = await serverFacts(o.pgUrl);
  const s = server.settings;
  console.log(
    `bench: Postgres ${server.version}: fsync=${s.fsync} synchronous_commit=${s.synchronous_commit} full_page_writes=${s.full_page_writes}` +
      (server.durable ? "" : "  → FAIL: a durability setting is off; figures are not comparable"),
  );

  const pgbenchDb = `bench_${runId}_pgbench`;
  await pgbenchInit(o.pgUrl, pgbenchDb, 16);
  const before = await reference(o, pgbenchDb, "before");
  const peersDb = `bench_${runId}_peers`;
  if (o.peers) await peersInit(o.pgUrl, peersDb);
  const peersBefore = o.peers ? await peers(o, peersDb, "before") : {};

  const run: BenchRun = {
    startedAt: startedAt.toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
    options: o,
    machine: { cores: cpus().length, node: process.version, load1Start, load1End: 0, hugePages: hugePages() },
    server,
    pgbench: { meanTps: 0, machineUsPerTransaction: 0 },
    peers: {},
    peakRate: o.rate ?? DEFAULT_PEAK,
    scenarios: [],
    verdicts: {},
  };
  for (const name of o.scenarios) {
    const def = SCENARIOS[name];
    console.log(`bench: ${name}: ${def.title} (load ${loadAverage()})`);
    try {
      const r = await runScenario(def, o, runId, outDir, run.peakRate);
      if (name === "uniform" && o.rate === undefined && r.settle.settledPerSec > 0) {
        run.peakRate = r.settle.settledPerSec;
      }
      run.scenarios.push(r);
      const l = r.load.latencyMs;
      console.log(
        `bench: ${name}: ${r.requestsPerSec} requests/s × ${r.itemsPerRequest} ops, accepted ${r.acceptedPerSec}/s (p50 ${l.p50} p99 ${l.p99} max ${l.max} ms), settled ${r.settle.settledPerSec}/s, ` +
          `lag p50 ${r.settle.lagMs.p50} p99 ${r.settle.lagMs.p99} ms, http ${JSON.stringify(r.load.statuses)}, ` +
          `final ${JSON.stringify(r.settle.statuses)}, audit ${r.audit.ok ? "pass" : "FAIL"}, deadlocks +${r.deadlocks.after - r.deadlocks.before}, ` +
          `ops/insert ${r.settle.groupSize.accept}, ops/batch ${r.settle.groupSize.batch}, ` +
          `cpu us/op ${Object.entries(r.cpu)
            .map(([k, v]) => `${k} ${v.usPerOp}`)
            .join(" ")}, ` +
          `pg per op: ${r.pg.buffersPerOp} buffers (${r.pg.readsPerOp} read in), ${r.pg.walBytesPerOp} WAL bytes, workers waiting on locks ${r.pg.lockWaitPct}%`,
      );
    } catch (err) {
      console.error(
        `bench: ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      run.scenarios.push({ name, title: def.title, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const after = await reference(o, pgbenchDb, "after");
  const peersAfter = o.peers ? await peers(o, peersDb, "after") : {};
  await dropDatabase(o.pgUrl, pgbenchDb).catch(() => {});
  if (o.peers) await dropDatabase(o.pgUrl, peersDb).catch(() => {});
  const pgbench = beforeAfter(before, after);
  run.pgbench = {
    ...pgbench.kept,
    meanTps: mean(pgbench.runs, (r) => r.tps),
    machineUsPerTransaction: mean(pgbench.runs, (r) => r.machineUsPerTransaction),
  };
  for (const name of PEER_NAMES) {
    const peer = beforeAfter(peersBefore[name], peersAfter[name]);
    if (peer.runs.length === 0) continue;
    run.peers[name] = { ...peer.kept, meanTransfersPerSec: mean(peer.runs, (r) => r.transfersPerSec) };
  }
  run.machine.load1End = loadAverage();
  for (const r of run.scenarios) {
    run.verdicts[r.name] = "settle" in r ? verdict(r, run) : `FAIL (error: ${r.error})`;
  }
  console.log(`\n${writeReports(run, outDir)}`);
  console.log(`bench: wrote ${join(outDir, "results.md")}, results.json and one SVG chart per scenario`);
  return Object.values(run.verdicts).some((v) => v.startsWith("FAIL")) ? 1 : 0;
}

process.exitCode = await main();
