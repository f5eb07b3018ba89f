import { drizzle } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { withCheckedOutClient } from "./checkout.ts";
import type { Database, Tx } from "./client.ts";
import { isConnectionError } from "./pg-errors.ts";

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

/**
 * A Drizzle transaction for the statements that run per batch: `fn` gets the transaction and
 * its checked-out pg client, through which it sends the named (prepared) statements that
 * Drizzle cannot name. A lost connection is closed before Drizzle's ROLLBACK, which a silent
 * connection would otherwise hold for another query timeout: the ROLLBACK fails at once, the
 * transaction ends with the connection, and the checkout destroys it.
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
