import { drizzle } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { retrying } from "../retry.ts";
import type { Database, Db, Tx } from "./client.ts";
import { isConnectionError, pgCode } from "./pg-errors.ts";

/**
 * Every way this code holds a connection for more than one statement: a connection of one's
 * own ({@link withCheckedOutClient}), a Drizzle transaction on it ({@link transaction},
 * {@link withTx}), and the runner's batch ({@link batchTransaction}).
 */

type TxConfig = Parameters<Database["transaction"]>[1];

/**
 * Runs `fn` on a connection checked out of `pool` for it alone, and gives it back destroyed
 * when it failed (a Postgres restart mid-transaction) rather than to the next caller. The
 * checked-out client gets an 'error' listener: a connection that dies while checked out emits
 * 'error' on it, which unheard would crash the process; the failed query rejects as well, and
 * that is what callers act on.
 */
export async function withCheckedOutClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const onError = () => {};
  client.on("error", onError);
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionError(err)) broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/**
 * A Drizzle transaction on a connection checked out by {@link withCheckedOutClient}, so that a
 * connection that failed (a Postgres restart mid-transaction) is destroyed rather than returned
 * to the pool. Drizzle's own `db.transaction` on a pool runs BEGIN outside its try block: a BEGIN
 * that fails leaks the connection, and after `max` such failures the pool hands out no
 * connection at all. It also leaves a checked-out client without an 'error' listener.
 */
export async function transaction<T>(
  db: Database,
  fn: (tx: Tx) => Promise<T>,
  config?: TxConfig,
): Promise<T> {
  return withCheckedOutClient(db.$client, (client) => drizzle({ client }).transaction(fn, config));
}

const RETRYABLE = new Set(["40001", "40P01"]);

const isTx = (db: Db): db is Tx => "rollback" in db;

/**
 * Runs `fn` in a transaction: joins `db` if it is one already, else starts one and retries it
 * on serialization failures and deadlocks (40001, 40P01) up to `attempts` times, then throws.
 */
export async function withTx<T>(db: Db, fn: (tx: Tx) => Promise<T>, attempts = 3): Promise<T> {
  if (isTx(db)) return fn(db);
  return retrying(
    () => transaction(db as Database, fn),
    { firstMs: 20, maxMs: 1_000, jitter: 1 },
    (err, failures) => RETRYABLE.has(pgCode(err) ?? "") && failures < attempts,
  );
}

/**
 * A Drizzle transaction for the statements that run per batch: `fn` gets the transaction's
 * checked-out pg client, through which it sends the named (prepared) statements that Drizzle
 * cannot name, and the Drizzle transaction. A lost connection is closed before Drizzle's
 * ROLLBACK, which a silent connection would otherwise hold for another query timeout: the
 * ROLLBACK fails at once, the transaction ends with the connection, and the checkout destroys it.
 */
export async function batchTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, tx: Tx) => Promise<T>,
): Promise<T> {
  return withCheckedOutClient(pool, (client) =>
    drizzle({ client }).transaction(async (tx) => {
      try {
        return await fn(client, tx);
      } catch (err) {
        // end() destroys the socket of a client whose query hangs (pg's Client.end).
        if (isConnectionError(err)) void client.end().catch(() => {});
        throw err;
      }
    }),
  );
}
