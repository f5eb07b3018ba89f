import type pg from "pg";
import { withCheckedOutClient } from "./checkout.ts";
import { isConnectionError } from "./pg-errors.ts";

/**
 * A transaction on the raw pg pool, for the statements that run per batch: no query builder,
 * named (prepared) statements on the checked-out client. BEGIN runs inside the checkout, so a
 * failed BEGIN never leaks a connection, and a connection that failed is destroyed
 * ({@link withCheckedOutClient}), as in {@link transaction}, the Drizzle one.
 */
export async function pgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return pgTransactionOpening(pool, "BEGIN", (client) => fn(client));
}

/**
 * {@link pgTransaction} whose BEGIN carries the transaction's first statement in the same round
 * trip: `opening` is `BEGIN; <statement>` in the simple protocol (so the statement has no
 * parameters, and is planned each time), and `fn` receives that statement's result.
 */
export async function pgTransactionOpening<T>(
  pool: pg.Pool,
  opening: string,
  fn: (client: pg.PoolClient, opened: pg.QueryResult) => Promise<T>,
): Promise<T> {
  return withCheckedOutClient(pool, async (client, markBroken) => {
    try {
      // Several statements in one simple query answer with one result each.
      const results = (await client.query(opening)) as pg.QueryResult | pg.QueryResult[];
      const opened = Array.isArray(results) ? (results.at(-1) as pg.QueryResult) : results;
      const result = await fn(client, opened);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      // A lost connection is not asked to roll back (a silent one would keep it for another
      // query timeout): destroyed, its transaction ends with it. One that cannot even roll
      // back is not handed to the next caller either.
      if (isConnectionError(err)) markBroken(err);
      else await client.query("ROLLBACK").catch(markBroken);
      throw err;
    }
  });
}
