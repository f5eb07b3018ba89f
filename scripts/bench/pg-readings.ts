import pg from "pg";
import { withPg } from "./pg-reference.ts";

/**
 * What Postgres did for one scenario, per accepted operation: buffer accesses and those not found
 * in `shared_buffers` (the scenario database's `pg_stat_database`), WAL (the cluster's:
 * `pg_current_wal_insert_lsn` and `pg_stat_wal`, so other tenants of the server count too), the
 * share of the workers' time in a transaction spent waiting for a lock, and with `--profile` the
 * statements that took the time (`pg_stat_statements`, where the server has it).
 */
export interface PgReadings {
  buffersPerOp: number;
  /** Of those, buffers read in from the operating system (not found in `shared_buffers`). */
  readsPerOp: number;
  walBytesPerOp: number;
  walRecordsPerOp: number;
  walFpiPerOp: number;
  /** Of the samples that found a worker backend in a transaction, the share waiting on a lock, %. */
  lockWaitPct: number;
  /** Samples behind {@link lockWaitPct}. */
  lockSamples: number;
  statements?: StatementCost[];
}

export interface StatementCost {
  statement: string;
  calls: number;
  usPerOp: number;
  buffersPerOp: number;
  walBytesPerOp: number;
}

interface Counters {
  buffers: number;
  reads: number;
  walLsn: bigint;
  walRecords: number;
  walFpi: number;
}

/** How often the workers' backends are sampled for lock waits, ms. */
const SAMPLE_MS = 50;

async function counters(c: pg.Client): Promise<Counters> {
  const r = await c.query<{ buffers: string; reads: string; lsn: string; records: string; fpi: string }>(`
    SELECT (d.blks_hit + d.blks_read)::text AS buffers, d.blks_read::text AS reads,
           (pg_current_wal_insert_lsn() - '0/0')::text AS lsn,
           (SELECT wal_records FROM pg_stat_wal)::text AS records,
           (SELECT wal_fpi FROM pg_stat_wal)::text AS fpi
    FROM pg_stat_database AS d WHERE d.datname = current_database()`);
  const row = r.rows[0];
  return {
    buffers: Number(row?.buffers ?? 0),
    reads: Number(row?.reads ?? 0),
    walLsn: BigInt(row?.lsn ?? 0),
    walRecords: Number(row?.records ?? 0),
    walFpi: Number(row?.fpi ?? 0),
  };
}

/** Whether the server has pg_stat_statements (installed in its `postgres` database). */
async function hasStatements(serverUrl: string): Promise<boolean> {
  return withPg(serverUrl, "postgres", async (c) => {
    const r = await c.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
    return r.rowCount === 1;
  });
}

/**
 * Starts the readings of a measured phase on `database`; `stop(operations)` ends them once the
 * phase has drained and its processes have exited (a backend's statistics reach the shared
 * counters when it exits), and returns them per operation.
 */
export async function startPgReadings(
  serverUrl: string,
  database: string,
  profile: boolean,
): Promise<{ stop(operations: number): Promise<PgReadings> }> {
  const c = new pg.Client({ connectionString: `${serverUrl}/${database}` });
  await c.connect();
  // The sampler's connection is to another database: the scenario's backends' CPU leaves it out.
  const sampler = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await sampler.connect();
  const statements = profile && (await hasStatements(serverUrl));
  if (profile && !statements) console.log("bench: --profile: the server has no pg_stat_statements; skipped");
  if (statements) {
    await withPg(serverUrl, "postgres", (p) =>
      p.query("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = $1), 0)", [
        database,
      ]),
    );
  }
  const before = await counters(c);
  let inTransaction = 0;
  let waiting = 0;
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    sampler
      .query<{ tx: number; lock: number }>(
        `SELECT count(*) FILTER (WHERE state IN ('active', 'idle in transaction'))::int AS tx,
                count(*) FILTER (WHERE state IN ('active', 'idle in transaction') AND wait_event_type = 'Lock')::int AS lock
         FROM pg_stat_activity WHERE datname = $1 AND application_name = 'billing-worker'`,
        [database],
      )
      .then((r) => {
        inTransaction += r.rows[0]?.tx ?? 0;
        waiting += r.rows[0]?.lock ?? 0;
      })
      .catch(() => {})
      .finally(() => {
        sampling = false;
      });
  }, SAMPLE_MS);
  return {
    async stop(operations) {
      clearInterval(timer);
      try {
        const after = await counters(c);
        const per = (n: number) => Math.round((n / Math.max(1, operations)) * 10) / 10;
        return {
          buffersPerOp: per(after.buffers - before.buffers),
          readsPerOp: per(after.reads - before.reads),
          walBytesPerOp: Math.round(Number(after.walLsn - before.walLsn) / Math.max(1, operations)),
          walRecordsPerOp: per(after.walRecords - before.walRecords),
          walFpiPerOp: Math.round(((after.walFpi - before.walFpi) / Math.max(1, operations)) * 1000) / 1000,
          lockWaitPct: inTransaction ? Math.round((waiting / inTransaction) * 1000) / 10 : 0,
          lockSamples: inTransaction,
          ...(statements ? { statements: await topStatements(serverUrl, database, operations) } : {}),
        };
      } finally {
        await Promise.all([c.end(), sampler.end()]);
      }
    },
  };
}

/** The scenario's statements by total time, per operation. */
async function topStatements(
  serverUrl: string,
  database: string,
  operations: number,
): Promise<StatementCost[]> {
  return withPg(serverUrl, "postgres", async (c) => {
    const r = await c.query<{ statement: string; calls: string; us: number; buffers: string; wal: string }>(
      `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS statement, calls::text,
              total_exec_time * 1000 AS us, (shared_blks_hit + shared_blks_read)::text AS buffers, wal_bytes::text AS wal
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 ORDER BY total_exec_time DESC LIMIT 10`,
      [database],
    );
    const per = (n: number) => Math.round((n / Math.max(1, operations)) * 10) / 10;
    return r.rows.map((row) => ({
      statement: row.statement,
      calls: Number(row.calls),
      usPerOp: per(row.us),
      buffersPerOp: per(Number(row.buffers)),
      walBytesPerOp: Math.round(Number(row.wal) / Math.max(1, operations)),
    }));
  });
}
