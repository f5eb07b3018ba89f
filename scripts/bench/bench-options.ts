import { parseArgs } from "node:util";

/** The bench's scenarios, in the order they run (the uniform figure sets the open-loop rates). */
const SCENARIO_NAMES = [
  "uniform",
  "top-ups",
  "hot-source",
  "hot-destination",
  "open-half",
  "open-twice",
  "1m-wallets",
  "bulk",
  "bulk-hot-source",
  "bulk-top-ups",
  "bulk-1m-wallets",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface BenchOptions {
  quick: boolean;
  /** Measured seconds per scenario. */
  durationS: number;
  /** Unmeasured seconds of the same load first (JIT, caches, pools), then a drain. */
  warmupS: number;
  /** Closed-loop requests in flight. */
  connections: number;
  /** Items per request of the bulk scenarios. */
  bulkSize: number;
  /** Closed-loop bulk requests in flight (each `bulkSize` items). */
  bulkConnections: number;
  /** The peak rate open loops are set from; undefined: this run's uniform settled ops/s. */
  rate: number | undefined;
  scenarios: ScenarioName[];
  workers: number;
  /** API_PROCESSES of the api (1: one process, as before; 0: one per core). */
  apiProcesses: number;
  /** BATCH_CAP for the workers; undefined: the worker's default. */
  batchCap: number | undefined;
  partitions: number;
  pgbenchSeconds: number;
  /** Runs the ledger peers beside pgbench (ledger-peers.ts). */
  peers: boolean;
  /** Wallets of the "1m-wallets" scenario. */
  largeWallets: number;
  cpuProf: boolean;
  /** Per-statement costs from pg_stat_statements, where the server has it. */
  profile: boolean;
  keepDatabases: boolean;
  out: string | undefined;
  /** Extra environment for the api and workers, e.g. DB_POOL_SIZE=8. */
  env: Record<string, string>;
  pgUrl: string;
  redisUrl: string;
}

const HELP = `npm run bench -- [options]
  --quick                 the whole run in about four minutes (2 s phases, 50,000 large wallets, pgbench -T 2)
  --duration=S            measured seconds per scenario (default 30; quick 2)
  --warmup=S              unmeasured seconds before each scenario (default 5; quick 1)
  --connections=N         closed-loop connections (default 256)
  --bulk-size=N           items per request of the bulk scenarios, 1..1000 (default 100)
  --bulk-connections=N    closed-loop bulk requests in flight (default 16)
  --rate=R                peak rate for open loops: half runs at R/2, twice at 2R (default: this run's uniform settled ops/s)
  --scenarios=a,b         any of ${SCENARIO_NAMES.join(", ")} (default all)
  --workers=N             worker processes (default 2)
  --api-processes=N       API_PROCESSES of the api: processes sharing its port (default 1; 0 = one per core)
  --batch-cap=N           BATCH_CAP of the workers (default: the worker's own)
  --partitions=N          PARTITIONS (default 16)
  --pgbench-seconds=S     length of each reference pgbench run (default 20; quick 2)
  --no-peers              skip the ledger peers (a PL/pgSQL transfer, one per transaction and 500 per
                          call) that otherwise run beside pgbench, as long, before and after
  --large-wallets=N       wallets of 1m-wallets (default 1000000; quick 50000)
  --cpu-prof              api and workers write V8 CPU profiles into the results folder
  --profile               per scenario, the statements that took Postgres's time (calls, µs, buffers
                          and WAL per operation), where the server has pg_stat_statements
  --env=K=V               extra environment for api and workers (repeatable)
  --keep-databases        leave the scenario databases behind
  --out=DIR               results folder (default bench-results/<time>)
Postgres and Redis: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432), BENCH_REDIS_URL (default redis://127.0.0.1:6379).`;

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

function nonNegativeInteger(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, 0 or more`);
  return n;
}

/** Parses the command line; prints help and exits on --help or a bad option. */
export function parseBenchOptions(argv: string[]): BenchOptions {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick === true;
  const scenarios = (values.scenarios?.split(",") ?? [...SCENARIO_NAMES]).map((s) => s.trim());
  for (const s of scenarios) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(s)) {
      console.error(`bench: unknown scenario ${s}\n\n${HELP}`);
      process.exit(2);
    }
  }
  const env: Record<string, string> = {};
  for (const kv of values.env ?? []) {
    const eq = kv.indexOf("=");
    if (eq < 1) throw new Error(`--env needs KEY=VALUE, got ${kv}`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    quick,
    durationS: positive("duration", values.duration, quick ? 2 : 30),
    warmupS: positive("warmup", values.warmup, quick ? 1 : 5),
    connections: positive("connections", values.connections, 256),
    bulkSize: Math.min(1_000, positive("bulk-size", values["bulk-size"], 100)),
    bulkConnections: positive("bulk-connections", values["bulk-connections"], 16),
    rate: values.rate === undefined ? undefined : positive("rate", values.rate, 0),
    scenarios: SCENARIO_NAMES.filter((s) => scenarios.includes(s)),
    workers: positive("workers", values.workers, 2),
    apiProcesses: nonNegativeInteger("api-processes", values["api-processes"], 1),
    batchCap: values["batch-cap"] === undefined ? undefined : positive("batch-cap", values["batch-cap"], 0),
    partitions: positive("partitions", values.partitions, 16),
    pgbenchSeconds: positive("pgbench-seconds", values["pgbench-seconds"], quick ? 2 : 20),
    peers: values["no-peers"] !== true,
    largeWallets: positive("large-wallets", values["large-wallets"], quick ? 50_000 : 1_000_000),
    cpuProf: values["cpu-prof"] === true,
    profile: values.profile === true,
    keepDatabases: values["keep-databases"] === true,
    out: values.out,
    env,
    pgUrl: (process.env.BENCH_PG_URL || "postgres://postgres@127.0.0.1:5432").replace(/\/$/, ""),
    redisUrl: process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379",
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      "bulk-size": { type: "string" },
      "bulk-connections": { type: "string" },
      rate: { type: "string" },
      scenarios: { type: "string" },
      workers: { type: "string" },
      "api-processes": { type: "string" },
      "batch-cap": { type: "string" },
      partitions: { type: "string" },
      "pgbench-seconds": { type: "string" },
      "no-peers": { type: "boolean" },
      "large-wallets": { type: "string" },
      "cpu-prof": { type: "boolean" },
      profile: { type: "boolean" },
      env: { type: "string", multiple: true },
      "keep-databases": { type: "boolean" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}
