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

/** TCP keepalive on every connection: an idle pooled connection to a vanished host is noticed, ms. */
const KEEPALIVE_IDLE_MS = 10_000;

/** A pool and its Drizzle handle. bigint columns come back as BigInt (schema `mode: "bigint"`). */
export function openDb(opts: DbOptions): DbHandle {
  const settings = { ...opts.sessionSettings };
  if (opts.statementTimeoutMs !== undefined) settings.statement_timeout = `${opts.statementTimeoutMs}ms`;
  const options = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
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
