import type pg from "pg";
import { isConnectionError } from "./pg-errors.ts";

/**
 * Runs `fn` on a connection checked out of `pool` for it alone, and gives it back destroyed
 * when it failed (a Postgres restart mid-transaction) rather than to the next caller. The
 * checked-out client gets an 'error' listener: a connection that dies while checked out emits
 * 'error' on it, which unheard would crash the process; the failed query rejects as well, and
 * that is what callers act on. `markBroken` lets `fn` condemn the connection for a reason of
 * its own (a ROLLBACK that failed).
 */
export async function withCheckedOutClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, markBroken: (err: unknown) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const onError = () => {};
  client.on("error", onError);
  let broken: Error | undefined;
  const markBroken = (err: unknown) => {
    broken ??= err instanceof Error ? err : new Error(String(err));
  };
  try {
    return await fn(client, markBroken);
  } catch (err) {
    if (isConnectionError(err)) markBroken(err);
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
