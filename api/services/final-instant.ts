import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";

/** How far past the database's clock an instant may be and still be waited for, ms; further is refused. */
export const AHEAD_WAIT_MS = 1_000;
/** Longest wait for the writes that could still date an entry at or before an instant, ms. */
export const FINAL_WAIT_MS = 5_000;
/** Pause between two looks at those writes, ms. */
const POLL_MS = 5;
/** Ids of transactions still running, as text: each holds the lock of its own id until it ends. */
const RUNNING = `SELECT transactionid::text AS x FROM pg_locks
  WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted`;
/**
 * Those of this database that began at or before `$1` and its millisecond (a session of another
 * role shows no `xact_start`: it is counted).
 */
const RUNNING_SINCE = `SELECT l.transactionid::text AS x FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
    AND a.datname = current_database()
    AND (a.xact_start IS NULL OR a.xact_start < $1::timestamptz + interval '1 millisecond')`;

/**
 * Waits until no entry dated at or before `at` (to the end of its millisecond, as the API counts
 * `createdAt`) can still appear, so that a balance read next is final: asked again later, the
 * same `at` gives the same answer. Entries are dated by `clock_timestamp()` in the batch's write,
 * after its locks, and become visible at its commit. So:
 *
 * - first, `at` must have passed on Postgres's clock (not the api host's): an `at` up to
 *   {@link AHEAD_WAIT_MS} ahead is waited out, a later one is "future";
 * - then this database's transactions that began by then and hold a transaction id are listed
 *   (`pg_locks`: each holds the lock of its own id from its first write to its end): a write
 *   that starts later dates its entries later, so after `at`, while one that dated entries
 *   already holds an id. Those are waited for until each has committed or aborted, at most
 *   {@link FINAL_WAIT_MS} ("busy").
 *   (A snapshot's in-progress list would not do: it leaves out running transactions whose ids
 *   are at or past its `xmax`.)
 *
 * Usually a few milliseconds: the writes in progress at that instant are batches and accept
 * inserts, each a few milliseconds long.
 */
export async function untilFinal(pool: pg.Pool, at: Date): Promise<"final" | "future" | "busy"> {
  const deadline = performance.now() + FINAL_WAIT_MS;
  for (;;) {
    const r = await pool.query<{ ahead_ms: number; running: string[] }>(
      `SELECT (extract(epoch FROM $1::timestamptz + interval '1 millisecond' - statement_timestamp()) * 1000)::float8
                AS ahead_ms,
              array(${RUNNING_SINCE}) AS running`,
      [at],
    );
    const { ahead_ms: aheadMs, running } = r.rows[0] as { ahead_ms: number; running: string[] };
    if (aheadMs > AHEAD_WAIT_MS) return "future";
    if (aheadMs > 0) {
      await sleep(Math.ceil(aheadMs));
      continue;
    }
    let left = running;
    while (left.length > 0) {
      if (performance.now() >= deadline) return "busy";
      await sleep(POLL_MS);
      const still = await pool.query<{ x: string }>(`${RUNNING} AND transactionid = ANY ($1::xid[])`, [left]);
      left = still.rows.map((row) => row.x);
    }
    return "final";
  }
}
