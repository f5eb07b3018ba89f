import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import pg from "pg";
import { machineCpu } from "./bench-processes.ts";

const run = promisify(execFile);

/** Settings that make a commit durable; the bench reports FAIL when any is off. */
const DURABILITY_SETTINGS = ["fsync", "synchronous_commit", "full_page_writes"] as const;

export interface ServerFacts {
  version: string;
  settings: Record<string, string>;
  /** True when fsync, synchronous_commit and full_page_writes are all on. */
  durable: boolean;
}

/** Runs `fn` with a connection to `database` on the server of `serverUrl` (a URL without a database). */
export async function withPg<T>(
  serverUrl: string,
  database: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const c = new pg.Client({ connectionString: `${serverUrl.replace(/\/$/, "")}/${database}` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The server's version, durability settings and the tuning that shapes the figures. */
export async function serverFacts(serverUrl: string): Promise<ServerFacts> {
  return withPg(serverUrl, "postgres", async (c) => {
    const names = [
      ...DURABILITY_SETTINGS,
      "wal_sync_method",
      "commit_delay",
      "max_connections",
      "shared_buffers",
      "huge_pages",
      "max_wal_size",
      "shared_preload_libraries",
    ];
    // current_setting() as SHOW prints it ("128MB"; pg_settings' raw value is in units of 8kB).
    const r = await c.query<{ name: string; setting: string }>(
      "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)",
      [names],
    );
    const settings = Object.fromEntries(r.rows.map((row) => [row.name, row.setting]));
    const version =
      (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? "?";
    return { version, settings, durable: DURABILITY_SETTINGS.every((s) => settings[s] === "on") };
  });
}

/** Postgres's deadlock counter of one database. */
export async function deadlocks(serverUrl: string, database: string): Promise<number> {
  return withPg(serverUrl, "postgres", async (c) => {
    // A backend's statistics reach the shared counters when it exits (or goes idle, at most once
    // a second): wait until no backend of this database is left, at most 3 s.
    for (let waited = 0; waited < 3_000; waited += 100) {
      const open = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
        [database],
      );
      if (open.rows[0]?.n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await c.query<{ n: string }>(
      "SELECT deadlocks::text AS n FROM pg_stat_database WHERE datname = $1",
      [database],
    );
    return Number(r.rows[0]?.n ?? 0);
  });
}

/** The pgbench binary: on PATH, else Debian's versioned location. */
function pgbenchPath(): string {
  const debian = "/usr/lib/postgresql/15/bin/pgbench";
  return existsSync(debian) ? debian : "pgbench";
}

export interface PgbenchRun {
  tps: number;
  transactions: number;
  latencyMs: number;
  seconds: number;
  clients: number;
  /**
   * The whole machine's busy CPU over the run, per transaction, µs: pgbench, its backends and
   * anything else running, as the scenarios' "machine" reading counts it. Both are CPU-bound on
   * this machine, so a scenario's ratio to pgbench is about this over its own machine µs per
   * operation (docs/performance.md, "What a pgbench transaction costs").
   */
  machineUsPerTransaction: number;
}

/** libpq environment for `serverUrl`. */
function libpqEnv(serverUrl: string): Record<string, string> {
  const u = new URL(serverUrl);
  return {
    PATH: process.env.PATH ?? "",
    PGHOST: u.hostname,
    PGPORT: u.port || "5432",
    PGUSER: decodeURIComponent(u.username || "postgres"),
    ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
  };
}

/** `pgbench -i -s 16` into `database` (created here). */
export async function pgbenchInit(serverUrl: string, database: string, scale: number): Promise<void> {
  await withPg(serverUrl, "postgres", (c) => c.query(`CREATE DATABASE ${database}`));
  await run(pgbenchPath(), ["-i", "-s", String(scale), "-q", database], {
    env: libpqEnv(serverUrl),
    maxBuffer: 1 << 22,
  });
}

/**
 * `pgbench -c C -j J -T S` at the server's own durability settings: TPC-B-like, or the
 * transactions of `script` (a pgbench script file; no vacuum of pgbench's own tables first).
 */
export async function pgbenchRun(
  serverUrl: string,
  database: string,
  opts: { clients: number; threads: number; seconds: number; script?: string },
): Promise<PgbenchRun> {
  const cpuBefore = machineCpu();
  const { stdout } = await run(
    pgbenchPath(),
    [
      ...(opts.script ? ["-n", "-f", opts.script] : []),
      "-c",
      String(opts.clients),
      "-j",
      String(opts.threads),
      "-T",
      String(opts.seconds),
      database,
    ],
    { env: libpqEnv(serverUrl), maxBuffer: 1 << 22 },
  );
  const busyMs = machineCpu().busyMs - cpuBefore.busyMs;
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  const transactions = Number(/actually processed: (\d+)/.exec(stdout)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
  if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps:\n${stdout}`);
  return {
    tps: Math.round(tps),
    transactions,
    latencyMs,
    seconds: opts.seconds,
    clients: opts.clients,
    machineUsPerTransaction: transactions > 0 ? Math.round((busyMs * 1000) / transactions) : 0,
  };
}

/** Drops a database, ending its sessions. */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  await withPg(serverUrl, "postgres", (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
}
