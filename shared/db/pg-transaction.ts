import type pg from "pg";
import { withCheckedOutClient } from "./checkout.ts";

/**
 * A transaction on the raw pg pool, for the statements that run per batch: no query builder,
 * named (prepared) statements on the checked-out client. BEGIN runs inside the checkout, so a
 * failed BEGIN never leaks a connection, and a connection that failed is destroyed
 * ({@link withCheckedOutClient}), as in {@link transaction}, the Drizzle one.
 */
export async function pgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withCheckedOutClient(pool, async (client, markBroken) => {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      // A connection that cannot even roll back is not handed to the next caller.
      await client.query("ROLLBACK").catch(markBroken);
      throw err;
    }
  });
}
