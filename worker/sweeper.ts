import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { requestHash } from "../shared/canonical.ts";
import type { Database } from "../shared/db/client.ts";
import { expiredHolds } from "../shared/db/hold-facts-repo.ts";
import { insertPendingMany } from "../shared/db/operation-batch-repo.ts";
import { newId } from "../shared/ids.ts";
import { errorSummary } from "../shared/log-safe.ts";
import type { Doorbells } from "../shared/queues/doorbells.ts";
import { bounded } from "../shared/redis/bounded.ts";
import { expiryKey } from "./hold-repo.ts";

/**
 * A sweep's Redis commands get this long, ms: one that never answers must not stop every later
 * sweep (a sweep runs only when the previous one ended).
 */
const SWEEP_REDIS_TIMEOUT_MS = 5_000;

/** Most expired holds one sweep accepts voids for; the next sweep takes the rest. */
const EXPIRY_BATCH = 1_000;

/**
 * Recovery timer (ARCHITECTURE.md step 6), run by every worker; safe in many processes at once
 * because it only rings doorbells and accepts idempotent operations. It rings each partition
 * holding operations `pending` longer than the grace period (a lost doorbell: the api died after
 * its insert, Redis lost its data), re-asserts global concurrency 1 on every partition queue,
 * which a Redis flush erases, and accepts a system void for each active hold past its expiry.
 */
export function startSweeper(deps: {
  db: Database;
  doorbells: Doorbells;
  log: Logger;
  intervalMs: number;
  graceMs: number;
  /** Each sweep's finding: the partitions with operations pending past the grace period. */
  onStale?: (partitions: number[]) => void;
}): { stop(): void } {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      await bounded(
        deps.doorbells.assertGlobalConcurrency(),
        SWEEP_REDIS_TIMEOUT_MS,
        "asserting global concurrency",
      );
      // Reads only the partial index of pending operations.
      const r = await deps.db.execute<{ partition: number }>(sql`
        SELECT DISTINCT partition FROM operations
        WHERE status = 'pending' AND created_at < now() - make_interval(secs => ${deps.graceMs / 1000})`);
      const stale = r.rows.map((row) => row.partition);
      deps.onStale?.(stale);
      if (stale.length > 0) {
        deps.log.warn({ partitions: stale }, "sweeper: ringing partitions with stale pending operations");
        // An unconditional add, not the dirty-flag protocol: the flag may be set with no job behind
        // it (an api that set it and then failed to add the job), and would hold rings back until
        // it expires. An extra doorbell costs one empty select.
        await bounded(
          Promise.all(stale.map((p) => deps.doorbells.addJob(p))),
          SWEEP_REDIS_TIMEOUT_MS,
          "ringing stale partitions",
        );
      }
      await expireHolds(deps);
    } catch (err) {
      deps.log.warn({ err: errorSummary(err) }, "sweep failed; will retry");
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Expiry goes through the queue, not around it (ARCHITECTURE.md, "Payouts, holds and bulk"):
 * each active hold past its expiry gets a `void` accepted into its partition, with
 * `metadata.reason = "expired"`, under its client and the key {@link expiryKey}, exactly one
 * per hold however many sweepers run (the unique key decides; a second insert does nothing).
 * Applied in the partition's order, it cannot race a capture: whichever was accepted first wins.
 */
async function expireHolds(deps: { db: Database; doorbells: Doorbells; log: Logger }): Promise<void> {
  const expired = await expiredHolds(deps.db.$client, EXPIRY_BATCH);
  if (expired.length === 0) return;
  const metadata = { reason: "expired" };
  const inserted = await insertPendingMany(
    deps.db.$client,
    expired.map((h) => ({
      id: newId(),
      clientId: h.clientId,
      type: "void" as const,
      amount: h.amount,
      currency: h.currency,
      fromWalletId: h.fromWalletId,
      toWalletId: h.toWalletId,
      holdId: h.id,
      expiresInSeconds: null,
      metadata,
      partition: h.partition,
      idempotencyKey: expiryKey(h.id),
      requestHash: requestHash({ type: "void", holdId: h.id, metadata }),
    })),
  );
  if (inserted.size === 0) return;
  deps.log.info({ voids: inserted.size }, "sweeper: voiding expired holds");
  await bounded(
    deps.doorbells.ring([...inserted.values()].map((op) => op.partition)),
    SWEEP_REDIS_TIMEOUT_MS,
    "ringing the expiry voids' partitions",
  );
}
