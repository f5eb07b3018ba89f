import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";

/** Query-builder only (no relational `db.query`), so a transaction handle is cheap to make. */
export type Database = NodePgDatabase & { $client: pg.Pool };
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Repositories take either and work inside or outside a transaction. */
export type Db = NodePgDatabase | Tx;

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
}

/** A pool and its Drizzle handle. bigint columns come back as BigInt (schema `mode: "bigint"`). */
export function openDb(opts: DbOptions): DbHandle {
  const options = Object.entries(opts.sessionSettings ?? {})
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize,
    application_name: opts.applicationName,
    ...(options ? { options } : {}),
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's connection can die (Postgres restart); the pool drops it. Without a
  // listener the 'error' event would crash the process.
  pool.on("error", () => {});
  const db = drizzle({ client: pool });
  return { db, pool, close: () => pool.end() };
}
