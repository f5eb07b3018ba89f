import { setTimeout as sleep } from "node:timers/promises";
import type { Database, Db, Tx } from "./client.ts";
import { pgCode } from "./pg-errors.ts";
import { transaction } from "./transaction.ts";

const RETRYABLE = new Set(["40001", "40P01"]);

const isTx = (db: Db): db is Tx => "rollback" in db;

/**
 * Runs `fn` in a transaction: joins `db` if it is one already, else starts one and retries it
 * on serialization failures and deadlocks (40001, 40P01) up to `attempts` times, then throws.
 */
export async function withTx<T>(db: Db, fn: (tx: Tx) => Promise<T>, attempts = 3): Promise<T> {
  if (isTx(db)) return fn(db);
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction(db as Database, fn);
    } catch (err) {
      const code = pgCode(err);
      if (!code || !RETRYABLE.has(code) || attempt >= attempts) throw err;
      await sleep(10 * 2 ** attempt * Math.random());
    }
  }
}
