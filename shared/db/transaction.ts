import { drizzle } from "drizzle-orm/node-postgres";
import { withCheckedOutClient } from "./checkout.ts";
import type { Database, Tx } from "./client.ts";

type TxConfig = Parameters<Database["transaction"]>[1];

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
