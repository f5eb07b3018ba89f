import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";

/** Query-builder only (no relational `db.query`), so a transaction handle is cheap to make. */
export type Database = NodePgDatabase & { $client: pg.Pool };
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Repositories take either and work inside or outside a transaction. */
export type Db = NodePgDatabase | Tx;
/**
 * What the raw-SQL paths need of a pool or of a transaction's checked-out client: `query`,
 * for named (prepared) statements that Drizzle cannot name (the accept insert, the batch).
 */
export type Queryable = Pick<pg.PoolClient, "query">;

export interface DbHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface DbOptions {
  url: string;
  poolSize: number;
  applicationName: string;
  /** Session settings (`-c name=value`), e.g. lock_timeout for workers. */
  sessionSettings?: Record<string, string>;
  /**
   * The session's `statement_timeout`, ms; the client also gives up on a query
   * {@link CLIENT_TIMEOUT_MARGIN_MS} later, for a connection that died without a reset.
   */
  statementTimeoutMs?: number;
}

/**
 * How much longer than `statement_timeout` the client waits for an answer before it gives up
 * on the connection, ms. The server answers a statement within its timeout; a connection that
 * stays silent past that (a failover that did not reset it, packets dropped on the way) is
 * dead, and the query fails with "Query read timeout", which callers treat as a lost connection.
 */
export const CLIENT_TIMEOUT_MARGIN_MS = 5_000;

/**
 * Session settings of the pools that run the write path (the api's accept inserts, the workers'
 * batches): each named statement is planned once per connection, whatever its rows.
 *
 * Those statements take their rows as arrays. Under Postgres's default (`plan_cache_mode =
 * auto`) a statement whose plan for its actual arrays is estimated cheaper than its generic
 * plan is planned anew at every execution. With a row or two (a quiet minute's accepts and
 * batches) that is always so, and planning cost more than executing: twice the backend's CPU per
 * operation (docs/performance.md, "Plans made once"). Their generic plans are the index probes
 * that batches of any size use anyway. Only these pools: the api's other reads keep plans made
 * for their parameters.
 */
export const WRITE_PATH_SETTINGS: Readonly<Record<string, string>> = {
  plan_cache_mode: "force_generic_plan",
};

/**
 * The workers' sessions: {@link WRITE_PATH_SETTINGS}, and no sequential scan where another plan
 * exists. A batch's statements read by key or by address (the queue rows' `ctid`), always few
 * rows of large or fast-changing tables, and each is planned once, when the queue may be empty:
 * estimated from such statistics, a sequential scan of the queue looks cheapest, and is what
 * every later batch pays, however deep the backlog has grown meanwhile (docs/performance.md,
 * "The queue's statistics"). The sweeper shares the pool; its statements read through indexes
 * too (the expired holds' partial index, the queue's key).
 */
export const BATCH_SETTINGS: Readonly<Record<string, string>> = {
  ...WRITE_PATH_SETTINGS,
  enable_seqscan: "off",
};

/** Session settings as a connection's `options` (`-c name=value …`), for pg's Pool and Client. */
export const sessionOptions = (settings: Readonly<Record<string, string>>): string =>
  Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");

/** TCP keepalive on every connection: an idle pooled connection to a vanished host is noticed, ms. */
const KEEPALIVE_IDLE_MS = 10_000;

/** A pool and its Drizzle handle. bigint columns come back as BigInt (schema `mode: "bigint"`). */
export function openDb(opts: DbOptions): DbHandle {
  const settings = { ...opts.sessionSettings };
  if (opts.statementTimeoutMs !== undefined) settings.statement_timeout = `${opts.statementTimeoutMs}ms`;
  const options = sessionOptions(settings);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize,
    application_name: opts.applicationName,
    ...(options ? { options } : {}),
    ...(opts.statementTimeoutMs !== undefined
      ? { query_timeout: opts.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS }
      : {}),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's connection can die (Postgres restart); the pool drops it. Without a
  // listener the 'error' event would crash the process.
  pool.on("error", () => {});
  const db = drizzle({ client: pool });
  return { db, pool, close: () => pool.end() };
}
