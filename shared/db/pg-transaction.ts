import type pg from "pg";
import { isConnectionError } from "./pg-errors.ts";

/**
 * A transaction on the raw pg pool, for the statements that run per batch: no query builder,
 * named (prepared) statements on the checked-out client. Like {@link transaction} (the Drizzle
 * one), a connection that failed is destroyed rather than returned to the pool, BEGIN runs
 * inside the try block (a failed BEGIN never leaks a connection), and the checked-out client
 * has an 'error' listener (an unheard one would crash the process on a Postgres restart).
 */
export async function pgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const onError = () => {};
  client.on("error", onError);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
        // A connection that cannot even roll back is not handed to the next caller.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      throw err;
    }
  } catch (err) {
    if (isConnectionError(err)) broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
