import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchOptions } from "./bench-options.ts";
import type { HugePages, RssSample } from "./bench-processes.ts";
import { lineChart, type Series } from "./chart-svg.ts";
import { BATCH, PEER_ACCOUNTS, PEER_NAMES, type PeerName, type PeerRun } from "./ledger-peers.ts";
import type { PgbenchRun, ServerFacts } from "./pg-reference.ts";
import type { ScenarioResult } from "./run-scenario.ts";

export interface BenchRun {
  startedAt: string;
  command: string;
  options: BenchOptions;
  machine: {
    cores: number;
    node: string;
    load1Start: number;
    load1End: number;
    /** The host's reserved huge pages at the start (2 MB each on x86-64). */
    hugePages: HugePages;
  };
  server: ServerFacts;
  pgbench: {
    before?: PgbenchRun;
    after?: PgbenchRun;
    meanTps: number;
    /** The mean of the runs' machine µs per transaction (0: no run). */
    machineUsPerTransaction: number;
  };
  /** The ledger peers' runs (ledger-peers.ts), before and after the scenarios, as pgbench's. */
  peers: Partial<Record<PeerName, { before?: PeerRun; after?: PeerRun; meanTransfersPerSec: number }>>;
  /** The rate open loops were set from (uniform's settled ops/s, or --rate). */
  peakRate: number;
  scenarios: (ScenarioResult | { name: string; title: string; error: string })[];
  verdicts: Record<string, string>;
}

/**
 * RSS of one process, kB: first, middle and last sample, and the growth in % over the second
 * half. V8 grows its heap for the first 10-20 s of a load and then holds it; memory that keeps
 * growing in the second half is what a leak or an unbounded queue looks like, so the target is
 * judged on the second half (the table shows all three samples).
 */
function rssGrowth(
  samples: RssSample[],
  name: string,
): { start: number; mid: number; end: number; pctSecondHalf: number } {
  const values = samples.map((s) => s.rssKb[name]).filter((v): v is number => v !== undefined);
  const start = values[0] ?? 0;
  const mid = values[Math.floor(values.length / 2)] ?? 0;
  const end = values[values.length - 1] ?? 0;
  return { start, mid, end, pctSecondHalf: mid ? Math.round(((end - mid) / mid) * 1000) / 10 : 0 };
}

/** `a` over `b` to `digits` decimals; undefined without a `b` (a reference that did not run). */
const times = (a: number, b: number | undefined, digits = 2): number | undefined =>
  b ? Math.round((a / b) * 10 ** digits) / 10 ** digits : undefined;

const ratio = (r: ScenarioResult, run: BenchRun) => times(r.settle.settledPerSec, run.pgbench.meanTps) ?? 0;

const fivexx = (r: ScenarioResult) =>
  Object.entries(r.load.statuses)
    .filter(([s]) => s === "error" || (Number(s) >= 500 && s !== "503"))
    .reduce((n, [, v]) => n + v, 0);

/** Issue 22's ratio to pgbench for each bulk scenario. */
const BULK_RATIO = 4;

/** The issue's target for one scenario: PASS or FAIL, with the reason. */
export function verdict(r: ScenarioResult, run: BenchRun): string {
  if (!run.server.durable) return "FAIL (durability setting off)";
  if (!r.audit.ok) return `FAIL (audit: ${r.audit.failed.join("; ")})`;
  if (!r.drained) return "FAIL (operations still pending after the drain)";
  if (r.lost > 0) return `FAIL (${r.lost} accepted operations missing)`;
  if (fivexx(r) > 0) return `FAIL (${fivexx(r)} 5xx other than 503 or network errors)`;
  const x = ratio(r, run);
  const dl = r.deadlocks.after - r.deadlocks.before;
  const uniform = run.scenarios.find((s): s is ScenarioResult => s.name === "uniform" && "settle" in s);
  const shareOf = (base: ScenarioResult | undefined, baseName: string): string => {
    if (!base) return `n/a (${baseName} not run)`;
    const share = Math.round((r.settle.settledPerSec / Math.max(1, base.settle.settledPerSec)) * 100);
    return share >= 80 ? `PASS (${share}% of ${baseName} ≥ 80%)` : `FAIL (${share}% of ${baseName} < 80%)`;
  };
  const bulk = run.scenarios.find((s): s is ScenarioResult => s.name === "bulk" && "settle" in s);
  switch (r.name) {
    // Issue 17: the single-request targets of 2.5× / 2× are withdrawn; they must not regress.
    case "uniform":
      return x >= 1.2 ? `PASS (${x}× ≥ 1.2×)` : `FAIL (${x}× < 1.2×)`;
    case "hot-source":
    case "hot-destination":
      return dl !== 0 ? `FAIL (${dl} deadlocks)` : `reported (${x}×, no deadlock)`;
    case "1m-wallets":
      return shareOf(uniform, "uniform");
    // Issue 22: each bulk scenario ≥ 4×; in bulk, Postgres ≤ 90 and the machine ≤ 220 µs per operation.
    case "bulk": {
      const pgUs = r.cpu["pg backends"]?.usPerOp ?? 0;
      const us = r.cpu.machine?.usPerOp ?? 0;
      const ok = x >= BULK_RATIO && pgUs <= 90 && us <= 220;
      return `${ok ? "PASS" : "FAIL"} (${x}× ${x >= BULK_RATIO ? "≥" : "<"} ${BULK_RATIO}×; Postgres ${pgUs} µs/op ${pgUs <= 90 ? "≤" : ">"} 90; machine ${us} µs/op ${us <= 220 ? "≤" : ">"} 220)`;
    }
    case "bulk-hot-source":
    case "bulk-top-ups":
      if (dl !== 0) return `FAIL (${dl} deadlocks)`;
      return x >= BULK_RATIO ? `PASS (${x}× ≥ ${BULK_RATIO}×, no deadlock)` : `FAIL (${x}× < ${BULK_RATIO}×)`;
    case "bulk-1m-wallets":
      return shareOf(bulk, "bulk");
    case "open-half": {
      const ok = r.load.latencyMs.p99 <= 50 && r.settle.lagMs.p99 <= 250;
      return `${ok ? "PASS" : "FAIL"} (accept p99 ${r.load.latencyMs.p99} ms ≤ 50, settle lag p99 ${r.settle.lagMs.p99} ms ≤ 250)`;
    }
    case "open-twice": {
      const growths = Object.keys(r.rss[0]?.rssKb ?? {}).map(
        (n) => [n, rssGrowth(r.rss, n).pctSecondHalf] as const,
      );
      const fat = growths.filter(([, pct]) => pct >= 20);
      if (fat.length > 0) {
        return `FAIL (RSS grew ${fat.map(([n, p]) => `${n} ${p}%`).join(", ")} over the second half)`;
      }
      const shed = r.load.retryAfter503;
      if (shed === 0) return "FAIL (no 503 overloaded: the excess was not shed); memory flat, nothing lost";
      // Shedding must not be a collapse: what is admitted keeps going at half the peak or more.
      const goodput = Math.round((r.acceptedPerSec / Math.max(1, run.peakRate)) * 100);
      if (goodput < 50)
        return `FAIL (${shed} × 503, but only ${r.acceptedPerSec} accepted/s: ${goodput}% of the peak < 50%)`;
      return `PASS (${shed} × 503 with Retry-After; ${goodput}% of the peak still accepted; memory flat; nothing lost)`;
    }
    default:
      return "reported (no target)";
  }
}

const mb = (kb: number) => Math.round(kb / 1024);
const counts = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");

/**
 * The report's line on pgbench: its throughput, and what a transaction cost the machine, which
 * sets the CPU per operation a ratio to it asks of a scenario that day (both are CPU-bound here:
 * docs/performance.md, "What a pgbench transaction costs").
 */
export function referenceLine(run: Pick<BenchRun, "options" | "pgbench">): string {
  const p = run.pgbench;
  const line = `Reference: pgbench TPC-B (\`-i -s 16\`, \`-c 16 -j 2 -T ${run.options.pgbenchSeconds}\`): before ${p.before?.tps ?? "—"} tps, after ${p.after?.tps ?? "—"} tps, **mean ${p.meanTps} tps**.`;
  if (!p.machineUsPerTransaction) return line;
  return `${line} The machine spent ${p.machineUsPerTransaction} µs per transaction (mean of the runs), so ${BULK_RATIO}× pgbench asks a scenario for at most ${Math.round(p.machineUsPerTransaction / BULK_RATIO)} µs of the machine per operation.`;
}

/** How each ledger peer ran, in words, for the report's line on them. */
const PEER_WORDS: Record<PeerName, string> = {
  single: "one transfer per transaction from 16 clients",
  batched: `${BATCH} per call from one connection`,
};

/**
 * The report's line on the ledger peers (ledger-peers.ts): the transfers a second each moved,
 * before, after and mean, and the mean's ratio to pgbench's; empty when none ran.
 */
export function peersLine(run: Pick<BenchRun, "peers" | "pgbench">): string {
  const parts = PEER_NAMES.flatMap((name) => {
    const p = run.peers[name];
    if (!p) return [];
    const x = times(p.meanTransfersPerSec, run.pgbench.meanTps, 1);
    return [
      `${PEER_WORDS[name]}: before ${p.before?.transfersPerSec ?? "—"}, after ${p.after?.transfersPerSec ?? "—"}, **mean ${p.meanTransfersPerSec} transfers/s**${x === undefined ? "" : ` (${x}× pgbench)`}`,
    ];
  });
  if (parts.length === 0) return "";
  return `Ledger peers (\`scripts/bench/ledger-peers.ts\`: a PL/pgSQL transfer, two \`UPDATE\`s in account order and one \`INSERT\`, over ${PEER_ACCOUNTS.toLocaleString("en-US")} accounts; no idempotency, queue or HTTP): ${parts.join("; ")}.`;
}

/** A scenario's settled operations a second over a peer's mean transfers a second; "—" when it did not run. */
const peerRatio = (r: ScenarioResult, run: BenchRun, name: PeerName): string =>
  String(times(r.settle.settledPerSec, run.peers[name]?.meanTransfersPerSec) ?? "—");

/** The Markdown report: the reference, one row per scenario, CPU per operation, the verdicts. */
function markdown(run: BenchRun): string {
  const lines: string[] = [];
  const peers = peersLine(run);
  const s = run.server.settings;
  lines.push(
    `# npm run bench — ${run.startedAt}`,
    "",
    `Command: \`${run.command}\``,
    "",
    `Machine: ${run.machine.cores} cores, Node ${run.machine.node}, load average (1 min) ${run.machine.load1Start} at start, ${run.machine.load1End} at end; huge pages reserved ${run.machine.hugePages.total}, free ${run.machine.hugePages.free}.`,
    `Postgres ${run.server.version}: fsync=${s.fsync}, synchronous_commit=${s.synchronous_commit}, full_page_writes=${s.full_page_writes}` +
      ` → ${run.server.durable ? "durable" : "**FAIL: a durability setting is off**"}; shared_buffers=${s.shared_buffers}, huge_pages=${s.huge_pages}, max_connections=${s.max_connections}.`,
    "",
    referenceLine(run),
    ...(peers ? [peers] : []),
    `Processes: the api as ${run.options.apiProcesses === 1 ? "one process" : `API_PROCESSES=${run.options.apiProcesses}`}, ${run.options.workers} worker processes, ${run.options.partitions} partitions.`,
    `Open loops are set from a peak of ${run.peakRate} ops/s.`,
    "",
    "| scenario | load | requests/s | ops/request | accepted ops/s | accept p50 / p99 / max ms | settled/s | × pgbench | settle lag p50 / p99 ms | HTTP statuses | final statuses | deadlocks Δ | RSS MB start→mid→end (api; workers) | audit | target |",
    "|---|---|---:|---:|---:|---|---:|---:|---|---|---|---:|---|---|---|",
  );
  for (const r of run.scenarios) {
    if (!("settle" in r)) {
      lines.push(
        `| ${r.name} | — | — | — | — | — | — | — | — | — | — | — | — | — | ERROR: ${r.error.replaceAll("|", "/")} |`,
      );
      continue;
    }
    const load = r.loop === "closed" ? `closed, ${r.connections} conn` : `open, ${r.rate}/s`;
    const names = Object.keys(r.rss[0]?.rssKb ?? {});
    const rss = names
      .map((n) => rssGrowth(r.rss, n))
      .map((g) => `${mb(g.start)}→${mb(g.mid)}→${mb(g.end)}`)
      .join("; ");
    const l = r.load.latencyMs;
    lines.push(
      `| ${r.name} | ${load} | ${r.requestsPerSec} | ${r.itemsPerRequest} | ${r.acceptedPerSec} | ${l.p50} / ${l.p99} / ${l.max} | ${r.settle.settledPerSec} | ${ratio(r, run)} | ${r.settle.lagMs.p50} / ${r.settle.lagMs.p99} | ${counts(r.load.statuses)} | ${counts(r.settle.statuses)} | ${r.deadlocks.after - r.deadlocks.before} | ${rss} | ${r.audit.ok ? "pass" : "**FAIL**"} | ${run.verdicts[r.name] ?? ""} |`,
    );
  }
  const done = run.scenarios.filter((r): r is ScenarioResult => "settle" in r);
  if (Object.keys(run.peers).length > 0) {
    lines.push(
      "",
      "Settled operations a second over the ledger peers' transfers a second (the single-request scenarios' peer is the first, the bulk scenarios' the second):",
      "",
      `| scenario | settled/s | × pgbench | × ${PEER_WORDS.single} | × ${PEER_WORDS.batched} |`,
      "|---|---:|---:|---:|---:|",
      ...done.map(
        (r) =>
          `| ${r.name} | ${r.settle.settledPerSec} | ${ratio(r, run)} | ${peerRatio(r, run, "single")} | ${peerRatio(r, run, "batched")} |`,
      ),
    );
  }
  lines.push(
    "",
    "CPU time of the measured phase per accepted operation, µs, by process (pg backends: the scenario's Postgres backends; machine: all processes, other tenants included):",
    "",
  );
  const procs = [...new Set(done.flatMap((r) => Object.keys(r.cpu)))];
  lines.push(
    `| scenario | ${procs.join(" | ")} | ops per accept insert | ops per batch | ops per runner run | load avg start→end |`,
    `|---|${procs.map(() => "---:").join("|")}|---:|---:|---:|---|`,
  );
  for (const r of done) {
    lines.push(
      `| ${r.name} | ${procs.map((p) => r.cpu[p]?.usPerOp ?? "—").join(" | ")} | ${r.settle.groupSize.accept} | ${r.settle.groupSize.batch} | ${r.runs ? Math.round(r.load.accepted / r.runs) : "—"} | ${r.load1.start}→${r.load1.end} |`,
    );
  }
  lines.push(
    "",
    "Postgres per accepted operation, over the measured phase and its drain: buffer accesses of the scenario's database and those of them read in from the operating system, not found in `shared_buffers` (`pg_stat_database`), WAL of the whole server (`pg_current_wal_insert_lsn`, `pg_stat_wal`: other tenants count too), the share of the workers' in-transaction samples (every 50 ms, `pg_stat_activity`) spent waiting on a lock, and the operations a batch left for the next one because another batch held a wallet (`billing_operations_deferred_total`), per 100 accepted:",
    "",
    "| scenario | buffers | read in | WAL bytes | WAL records | full-page images | workers waiting on locks | samples | deferred per 100 ops |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of done) {
    const p = r.pg;
    lines.push(
      `| ${r.name} | ${p.buffersPerOp} | ${p.readsPerOp} | ${p.walBytesPerOp} | ${p.walRecordsPerOp} | ${p.walFpiPerOp} | ${p.lockWaitPct}% | ${p.lockSamples} | ${Math.round((r.deferred * 1000) / Math.max(1, r.load.accepted)) / 10} |`,
    );
  }
  for (const r of done.filter((d) => d.pg.statements)) {
    lines.push(
      "",
      `Statements of ${r.name} by total time (\`--profile\`, pg_stat_statements), per accepted operation:`,
      "",
      "| statement | calls | µs | buffers | WAL bytes |",
      "|---|---:|---:|---:|---:|",
      ...(r.pg.statements ?? []).map(
        (st) =>
          `| \`${st.statement.replaceAll("|", "/")}\` | ${st.calls} | ${st.usPerOp} | ${st.buffersPerOp} | ${st.walBytesPerOp} |`,
      ),
    );
  }
  const samples = done.flatMap((r) =>
    r.load.samples.slice(0, 2).map((x) => `- ${r.name}: ${x.status} ${x.body}`),
  );
  if (samples.length > 0) lines.push("", "Sample answers other than 202:", "", ...samples);
  lines.push("");
  return lines.join("\n");
}

/** One line of a chart: `y` of each point of a per-second timeline. */
const line = <P extends { t: number }>(
  label: string,
  color: string,
  timeline: P[],
  y: (p: P) => number,
): Series => ({
  label,
  color,
  points: timeline.map((p) => ({ x: p.t, y: y(p) })),
});

/** Throughput and settle lag over time for one scenario. */
function scenarioChart(r: ScenarioResult): string {
  const { load, settle } = r;
  return lineChart(r.title, [
    {
      title: "Throughput",
      unit: "ops/s",
      series: [
        line("accepted (ops/s)", "#1f77b4", load.timeline, (p) => p.accepted),
        line("settled (completed/s)", "#2ca02c", settle.timeline, (p) => p.settled),
        line("other answers/s", "#d62728", load.timeline, (p) => p.other),
      ],
    },
    {
      title: "Latency",
      unit: "ms",
      series: [
        line("settle lag p99", "#ff7f0e", settle.timeline, (p) => p.lagP99Ms),
        line("settle lag p50", "#9467bd", settle.timeline, (p) => p.lagP50Ms),
        line("accept p99", "#1f77b4", load.timeline, (p) => p.p99Ms),
      ],
    },
  ]);
}

/** Writes results.json, results.md and one SVG chart per scenario into `dir`. */
export function writeReports(run: BenchRun, dir: string): string {
  writeFileSync(join(dir, "results.json"), `${JSON.stringify(run, null, 2)}\n`);
  const md = markdown(run);
  const charts = run.scenarios
    .filter((r): r is ScenarioResult => "settle" in r)
    .map((r) => {
      writeFileSync(join(dir, `${r.name}.svg`), scenarioChart(r));
      return `![${r.name}](${r.name}.svg)`;
    });
  writeFileSync(join(dir, "results.md"), `${md}\n${charts.join("\n\n")}\n`);
  return md;
}
