import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type pg from "pg";
import { openDb } from "../../shared/db/client.ts";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { runMigrations } from "../../shared/db/migrate.ts";
import { deletePrefix } from "../../shared/redis/delete-prefix.ts";
import type { BenchOptions } from "./bench-options.ts";
import {
  type BenchProcess,
  loadAverage,
  machineCpu,
  processTreeStats,
  procStats,
  type RssSample,
  sampleRss,
  startProcess,
  stopProcess,
} from "./bench-processes.ts";
import type { LoadResult, LoadSpec } from "./load-spec.ts";
import { type PgReadings, startPgReadings } from "./pg-readings.ts";
import { deadlocks, dropDatabase, withPg } from "./pg-reference.ts";
import {
  MAX_AMOUNT,
  OPEN_LOOP_CONNECTIONS,
  OPEN_LOOP_MAX_OUTSTANDING,
  OVERLOAD_CONNECTIONS,
  type ScenarioDef,
  SEED_BALANCE,
} from "./scenarios.ts";
import { seedWallets, walletIds } from "./seed-wallets.ts";
import { type SettleStats, seqMarker, settleStats, waitSettled } from "./settle-stats.ts";

const ROOT = resolve(import.meta.dirname, "../..");
/** How long an idle backend may hold its statistics before reporting them, ms, and a margin. */
const STATS_IDLE_FLUSH_MS = 11_000;

export interface ScenarioResult {
  name: string;
  title: string;
  wallets: number;
  loop: "closed" | "open";
  connections: number;
  /** Open loop: requests a second. */
  rate?: number;
  load: LoadResult;
  /** Operations accepted a second over the generator's run (a bulk counts its accepted items). */
  acceptedPerSec: number;
  /** Requests a second, and operations per request (1 but for the bulk scenarios). */
  requestsPerSec: number;
  itemsPerRequest: number;
  settle: SettleStats;
  /** Every operation of the phase left `pending` before the drain timeout. */
  drained: boolean;
  audit: { ok: boolean; failed: string[] };
  /** 202s (not replays) the generator got minus the phase's operations in Postgres: 0 means nothing lost. */
  lost: number;
  deadlocks: { before: number; after: number };
  /** Operations the workers left for a later batch (a wallet held by another), over the measured phase and its drain. */
  deferred: number;
  /** Partition runners that ended over the measured phase and its drain: a doorbell job each. */
  runs: number;
  rss: RssSample[];
  /** Postgres per accepted operation over the measured phase and its drain (pg-readings.ts). */
  pg: PgReadings;
  /** CPU time of the measured phase, ms, and per accepted operation, µs. */
  cpu: Record<string, { ms: number; usPerOp: number }>;
  warnings: number;
  load1: { start: number; end: number };
  seedSeconds: number;
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const address = srv.address();
  srv.close();
  if (!address || typeof address !== "object") throw new Error("no free port");
  return address.port;
}

/** Runs the load generator as its own process and returns its result. */
async function generate(spec: LoadSpec, dir: string, phase: string): Promise<LoadResult> {
  const specFile = join(dir, `${phase}-spec.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const child = spawn(process.execPath, [join(ROOT, "scripts/bench/load-generator.ts"), specFile], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(readFileSync(spec.resultFile, "utf8")) as LoadResult;
}

async function createClient(baseUrl: string, adminToken: string): Promise<{ id: string; apiKey: string }> {
  const res = await fetch(`${baseUrl}/v1/clients`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench" }),
  });
  if (res.status !== 201) throw new Error(`creating the bench client: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; apiKey: string };
}

/**
 * One scenario end to end: a fresh database (migrated, seeded), a fresh queue prefix, the api
 * and the workers as processes, an unmeasured warm-up and drain, the measured phase, the drain,
 * Postgres's figures, the ledger audit, then everything stopped and the database dropped.
 */
export async function runScenario(
  def: ScenarioDef,
  o: BenchOptions,
  runId: string,
  outDir: string,
  peakRate: number,
): Promise<ScenarioResult> {
  const dir = join(outDir, def.name);
  mkdirSync(dir, { recursive: true });
  const database = `bench_${runId}_${def.name.replaceAll("-", "_")}`;
  const databaseUrl = `${o.pgUrl}/${database}`;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const adminToken = randomBytes(24).toString("base64url");
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: `bench-${runId}-${def.name}`,
    PARTITIONS: String(o.partitions),
    LOG_LEVEL: "info",
  };
  const profDir = join(dir, "profiles");
  const nodeFlags = o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
  const logFile = join(dir, "warnings.log");
  const processes: BenchProcess[] = [];
  await withPg(o.pgUrl, "postgres", (c) => c.query(`CREATE DATABASE ${database}`));
  // Counted over the whole scenario, warm-up included: from the empty database to the end.
  const deadlocksBefore = await deadlocks(o.pgUrl, database);
  try {
    await runMigrations({ url: databaseUrl, partitions: o.partitions, folder: join(ROOT, "drizzle") });
    // The api and the workers start side by side (each is a Node start-up of about a second).
    const started = await Promise.allSettled([
      startProcess({
        name: "api",
        script: join(ROOT, "api/main.ts"),
        env: {
          ...env,
          PORT: String(port),
          ADMIN_TOKEN: adminToken,
          API_PROCESSES: String(o.apiProcesses),
          // The per-client rate limit counts a bulk's items (100,000 per 10 s by default): a
          // bulk scenario's one client would meet that policy bound before the capacity measured.
          ...(def.bulk ? { RATE_LIMIT_REQUESTS: "0" } : {}),
          ...o.env,
        },
        nodeFlags,
        logFile,
        // With several api processes, the primary says so once all of them listen.
        readyText: o.apiProcesses === 1 ? "api listening" : "api processes listening",
      }),
      ...Array.from({ length: o.workers }, (_, k) =>
        startProcess({
          name: `worker-${k + 1}`,
          script: join(ROOT, "worker/main.ts"),
          env: {
            ...env,
            // Several workers on one host: each its own metrics port.
            METRICS_PORT: "0",
            ...(o.batchCap ? { BATCH_CAP: String(o.batchCap) } : {}),
            ...o.env,
          },
          nodeFlags,
          logFile,
          readyText: "worker started",
        }),
      ),
    ]);
    for (const s of started) if (s.status === "fulfilled") processes.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    const client = await createClient(baseUrl, adminToken);
    const seedStarted = performance.now();
    const wallets = def.wallets(o);
    const walletsFile = join(dir, "wallets.txt");
    const ids = await withPg(o.pgUrl, database, async (c) => {
      await seedWallets(c, {
        clientId: client.id,
        count: wallets,
        balance: SEED_BALANCE,
        partitions: o.partitions,
        currency: "USD",
      });
      return walletIds(c, client.id);
    });
    writeFileSync(walletsFile, ids);
    const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;
    const hotWallet = ids.slice(0, 36);
    const closed: LoadSpec["mode"] = {
      type: "closed",
      connections: def.bulk ? o.bulkConnections : o.connections,
    };
    // The measured phase's load: closed, or open at half or twice the peak.
    const mode: LoadSpec["mode"] =
      def.loop === "closed"
        ? closed
        : {
            type: "open",
            rate: def.loop === "half" ? peakRate / 2 : peakRate * 2,
            connections: def.loop === "twice" ? OVERLOAD_CONNECTIONS : OPEN_LOOP_CONNECTIONS,
            maxOutstanding: OPEN_LOOP_MAX_OUTSTANDING,
          };
    const spec = (phase: string, durationMs: number, phaseMode: LoadSpec["mode"]): LoadSpec => ({
      baseUrl,
      apiKey: client.apiKey,
      walletsFile,
      operation: def.operation,
      ...(def.hot === "source" ? { fixedFrom: hotWallet } : {}),
      ...(def.hot === "destination" ? { fixedTo: hotWallet } : {}),
      maxAmount: MAX_AMOUNT,
      ...(def.bulk ? { bulkSize: o.bulkSize } : {}),
      mode: phaseMode,
      durationMs,
      resultFile: join(dir, `${phase}-result.json`),
    });
    const drainMs = Math.max(60_000, o.durationS * 4_000);

    // Warm-up: the same load, unmeasured (closed loop: the open rate is not the point yet, unless
    // the scenario asks to warm up at it), then a drain.
    const warmup = def.warmupAtLoadS
      ? spec("warmup", Math.max(o.warmupS, def.warmupAtLoadS) * 1000, mode)
      : spec("warmup", o.warmupS * 1000, closed);
    await withPg(o.pgUrl, database, async (c) => {
      await generate(warmup, dir, "warmup");
      await waitSettled(c, drainMs);
    });
    // A backend that went idle less than a second after it last reported its statistics holds
    // the rest until it has been idle 10 s (Postgres 15's PGSTAT_IDLE_INTERVAL): wait them out,
    // so that the warm-up's buffer accesses do not land in the measured phase's.
    await sleep(STATS_IDLE_FLUSH_MS);

    const measured = await withPg(o.pgUrl, database, async (c) => {
      const marker = await seqMarker(c);
      const cpuBefore = processes.map((p) => processTreeStats(p.child.pid ?? 0)?.cpuMs ?? 0);
      const countersBefore = await workerCounters(processes);
      const backendsBefore = await backendCpu(c, database);
      const machineBefore = machineCpu();
      const readings = await startPgReadings(o.pgUrl, database, o.profile);
      const load1Start = loadAverage();
      const rssSampler = sampleRss(processes);
      const load = await generate(spec("measured", o.durationS * 1000, mode), dir, "measured");
      const drained = await waitSettled(c, drainMs);
      const rss = rssSampler.stop();
      const cpuAfter = processes.map((p) => processTreeStats(p.child.pid ?? 0)?.cpuMs ?? 0);
      const backendsAfter = await backendCpu(c, database);
      const machineAfter = machineCpu();
      const counters = await workerCounters(processes);
      return {
        load,
        deferred: counters.deferred - countersBefore.deferred,
        runs: counters.runs - countersBefore.runs,
        drained,
        rss,
        marker,
        readings,
        load1: { start: load1Start, end: loadAverage() },
        cpu: {
          processes: cpuAfter.map((v, i) => v - (cpuBefore[i] ?? 0)),
          postgres: [...backendsAfter].reduce(
            (sum, [pid, ms]) => sum + ms - (backendsBefore.get(pid) ?? 0),
            0,
          ),
          machine: machineAfter.busyMs - machineBefore.busyMs,
        },
      };
    });
    // Stopped first: a backend's statistics reach the shared counters when it exits, and the
    // readings end before the audit's and the settle statistics' own reads.
    await Promise.all(processes.map((p) => stopProcess(p)));
    const pgReadings = await measured.readings.stop(measured.load.accepted);
    // The settle statistics after the readings: their queries scan `operations` (no index on
    // `seq`), a million seeded rows in the 1m-wallets scenarios, and those reads are not the
    // product's.
    const settle = await withPg(o.pgUrl, database, (c) =>
      settleStats(c, measured.marker, measured.load.startedAt),
    );
    // Fresh statistics first: after the seed every wallet had one entry, and with a hot wallet
    // holding 100,000+ entries a stale estimate sends the audit's per-operation entry checks
    // through that wallet's index for every operation (minutes instead of seconds).
    await withPg(o.pgUrl, database, (c) => c.query("ANALYZE wallets, operations, entries"));
    const { db, close } = openDb({ url: databaseUrl, poolSize: 1, applicationName: "bench-audit" });
    const report = await auditLedger(db, { pendingBoundSeconds: 0 }).finally(close);
    const deadlocksAfter = await deadlocks(o.pgUrl, database);

    const accepted = measured.load.accepted;
    const ops = Math.max(1, accepted);
    const cpu: ScenarioResult["cpu"] = {};
    const per = (ms: number) => ({ ms, usPerOp: Math.round((ms * 1000) / ops) });
    processes.forEach((p, i) => {
      cpu[p.name] = per(measured.cpu.processes[i] ?? 0);
    });
    cpu.generator = per(measured.load.cpuMs.user + measured.load.cpuMs.system);
    cpu["pg backends"] = per(measured.cpu.postgres);
    cpu.machine = per(measured.cpu.machine);
    const seconds = Math.max(0.001, (measured.load.endedAt - measured.load.startedAt) / 1000);
    return {
      name: def.name,
      title: def.title,
      wallets,
      loop: mode.type,
      connections: mode.connections,
      ...(mode.type === "open" ? { rate: Math.round(mode.rate) } : {}),
      load: measured.load,
      acceptedPerSec: Math.round(accepted / seconds),
      requestsPerSec: Math.round(measured.load.sent / seconds),
      itemsPerRequest: Math.round((accepted / Math.max(1, measured.load.sent)) * 10) / 10,
      settle,
      drained: measured.drained,
      audit: { ok: report.ok, failed: report.checks.filter((ch) => ch.violations > 0).map((ch) => ch.name) },
      lost: accepted - measured.load.replayed - settle.operations,
      deadlocks: { before: deadlocksBefore, after: deadlocksAfter },
      deferred: measured.deferred,
      runs: measured.runs,
      rss: measured.rss,
      pg: pgReadings,
      cpu,
      warnings: processes.reduce((n, p) => n + p.warnings(), 0),
      load1: measured.load1,
      seedSeconds,
    };
  } finally {
    await Promise.all(processes.map((p) => stopProcess(p)));
    await deleteRedisKeys(o.redisUrl, env.QUEUE_PREFIX).catch(() => {});
    if (!o.keepDatabases) await dropDatabase(o.pgUrl, database).catch(() => {});
  }
}

/**
 * CPU time (ms) of the Postgres backends connected to `database`, by pid: the server's share of
 * the scenario (its WAL writer and checkpointer serve every database and are not counted).
 */
async function backendCpu(c: { query: pg.Client["query"] }, database: string): Promise<Map<number, number>> {
  const r = await c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [database]);
  const out = new Map<number, number>();
  for (const { pid } of r.rows) {
    const s = procStats(pid);
    if (s) out.set(pid, s.cpuMs);
  }
  return out;
}

/** Counters of the workers, summed over them. */
interface WorkerCounters {
  /** `billing_operations_deferred_total`. */
  deferred: number;
  /** `billing_partition_runs_total`, every outcome. */
  runs: number;
}

/**
 * The workers' counters, summed: each names its metrics port in the line that says it started.
 * 0 from a worker whose code has no such counter (an older commit).
 */
async function workerCounters(processes: BenchProcess[]): Promise<WorkerCounters> {
  const sum = { deferred: 0, runs: 0 };
  const total = (text: string, name: string) =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  for (const p of processes.filter((w) => w.name.startsWith("worker"))) {
    const { metricsPort } = JSON.parse(p.readyLine) as { metricsPort: number };
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    sum.deferred += total(text, "billing_operations_deferred_total");
    sum.runs += total(text, "billing_partition_runs_total");
  }
  return sum;
}

/** Removes the scenario's queues and flags from the shared Redis. */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  try {
    await deletePrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
