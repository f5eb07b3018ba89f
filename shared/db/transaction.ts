import { drizzle } from "drizzle-orm/node-postgres";
import type { Database, Tx } from "./client.ts";
import { isConnectionError } from "./pg-errors.ts";

type TxConfig = Parameters<Database["transaction"]>[1];

/**
 * A Drizzle transaction on a connection checked out here, so that a connection that failed
 * (a Postgres restart mid-transaction) is destroyed rather than returned to the pool. Drizzle's
 * own `db.transaction` on a pool runs BEGIN outside its try block: a BEGIN that fails leaks the
 * connection, and after `max` such failures the pool hands out no connection at all. It also
 * leaves a checked-out client without an 'error' listener (see below).
 */
export async function transaction<T>(
  db: Database,
  fn: (tx: Tx) => Promise<T>,
  config?: TxConfig,
): Promise<T> {
  const client = await db.$client.connect();
  // A connection that dies while checked out emits 'error' on the client; unheard, it would
  // crash the process. The failed query rejects as well, which is what this code acts on.
  const onError = () => {};
  client.on("error", onError);
  let broken: Error | undefined;
  try {
    return await drizzle({ client }).transaction(fn, config);
  } catch (err) {
    if (isConnectionError(err)) broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
