import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { requestHash } from "../shared/canonical.ts";
import type { Database } from "../shared/db/client.ts";
import { type ExpiredHold, expiredHolds, expiryKey } from "../shared/db/hold-facts-repo.ts";
import { insertPendingMany } from "../shared/db/operation-batch-repo.ts";
import { newId } from "../shared/ids.ts";
import { errorSummary } from "../shared/log-safe.ts";
import type { Doorbells } from "../shared/queues/doorbells.ts";
import { bounded } from "../shared/redis/bounded.ts";

/**
 * A sweep's Redis commands get this long each, ms: one that never answers must not stop every
 * later sweep (a sweep runs only when the previous one ended).
 */
export const SWEEP_REDIS_TIMEOUT_MS = 5_000;

/** Expired holds read per page; a sweep reads up to {@link EXPIRY_PAGES} pages. */
const EXPIRY_BATCH = 1_000;
const EXPIRY_PAGES = 10;

type SweeperDeps = {
  db: Database;
  doorbells: Doorbells;
  log: Logger;
  intervalMs: number;
  graceMs: number;
  /** Each sweep's finding: the partitions with operations pending past the grace period. */
  onStale?: (partitions: number[]) => void;
};

/**
 * Recovery timer (docs/design.md step 6), run by every worker; safe in many processes at once
 * because it only rings doorbells and accepts idempotent operations. Each sweep runs three steps,
 * each on its own, so that one that fails (a Redis node that does not answer) stops neither the
 * others nor the next sweep: it re-asserts global concurrency 1 on every partition queue, which
 * a Redis flush erases (each queue on its own); it rings each partition holding operations
 * `pending` longer than the grace period (a lost doorbell: the api died after its insert, Redis
 * lost its data), each ring on its own; and it accepts a system void for each active hold past
 * its expiry (Postgres, then rings).
 */
export function startSweeper(deps: SweeperDeps): { stop(): void } {
  let running = false;
  const step = (name: string, fn: () => Promise<void>) =>
    fn().catch((err: unknown) =>
      deps.log.warn({ err: errorSummary(err), step: name }, "sweep step failed; will retry"),
    );
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      await Promise.all([
        step("global concurrency", () => assertConcurrency(deps)),
        step("stale partitions", () => ringStale(deps)),
        step("hold expiry", () => expireHolds(deps)),
      ]);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function assertConcurrency(deps: SweeperDeps): Promise<void> {
  const failed = await deps.doorbells.assertGlobalConcurrency(SWEEP_REDIS_TIMEOUT_MS);
  if (failed.length > 0) deps.log.warn({ partitions: failed }, "sweeper: could not set global concurrency");
}

/**
 * Rings the partitions with operations pending past the grace period. An unconditional add, not
 * the dirty-flag protocol: the flag may be set with no job behind it (an api that set it and
 * then failed to add the job), and would hold rings back until it expires. An extra doorbell
 * costs one empty select. Each ring on its own: a node that does not answer fails only its own.
 */
async function ringStale(deps: SweeperDeps): Promise<void> {
  const r = await deps.db.execute<{ partition: number }>(staleSql(deps.graceMs));
  const stale = r.rows.map((row) => row.partition);
  deps.onStale?.(stale);
  if (stale.length === 0) return;
  deps.log.warn({ partitions: stale }, "sweeper: ringing partitions with stale pending operations");
  await ringEach(deps, stale, "ringing a stale partition");
}

/** Rings each partition with its own bounded add; logs those that failed. */
async function ringEach(deps: SweeperDeps, partitions: number[], what: string): Promise<void> {
  const rung = await Promise.allSettled(
    partitions.map((p) => bounded(deps.doorbells.addJob(p), SWEEP_REDIS_TIMEOUT_MS, what)),
  );
  const failed = partitions.filter((_, i) => rung[i]?.status === "rejected");
  if (failed.length > 0)
    deps.log.warn({ partitions: failed }, `sweeper: ${what} failed; the next sweep rings again`);
}

/**
 * The partitions whose oldest pending operation (the first of its queue) was accepted longer than
 * `graceMs` ago: a skip scan of the queue's key (one probe per partition that has a pending
 * operation, then one probe of `operations`), whatever the backlog.
 */
const staleSql = (graceMs: number) => sql`
  WITH RECURSIVE queued AS (
    SELECT min(partition) AS partition FROM pending_operations
    UNION ALL
    SELECT (SELECT min(partition) FROM pending_operations WHERE partition > queued.partition)
    FROM queued WHERE queued.partition IS NOT NULL
  )
  SELECT queued.partition FROM queued
  CROSS JOIN LATERAL (
    SELECT operation_id FROM pending_operations p WHERE p.partition = queued.partition ORDER BY p.seq LIMIT 1
  ) AS first
  JOIN operations o ON o.id = first.operation_id
  WHERE o.created_at < now() - make_interval(secs => ${graceMs / 1000})`;

/**
 * Expiry goes through the queue, not around it (docs/design.md, "Payouts, holds and balances at an instant"):
 * each active hold past its expiry gets a `void` accepted into its partition, with
 * `metadata.reason = "expired"`, under its client and the key {@link expiryKey} of its attempt,
 * exactly one per hold and attempt however many sweepers run (the unique key decides; a second
 * insert does nothing). Applied in the partition's order, it cannot race a capture: whichever was
 * accepted first wins. Holds whose capture or void waits in the queue are skipped
 * (hold-facts-repo.ts `expiredHolds`): that step decides the hold, and a backlogged partition's
 * holds do not starve the others', as the sweep pages on by expiry.
 */
async function expireHolds(deps: SweeperDeps): Promise<void> {
  let after: ExpiredHold | undefined;
  for (let page = 0; page < EXPIRY_PAGES; page++) {
    const expired = await expiredHolds(deps.db.$client, EXPIRY_BATCH, after);
    if (expired.length === 0) return;
    await voidExpired(deps, expired);
    if (expired.length < EXPIRY_BATCH) return;
    after = expired[expired.length - 1];
  }
}

async function voidExpired(deps: SweeperDeps, expired: ExpiredHold[]): Promise<void> {
  const metadata = { reason: "expired" };
  const { inserted } = await insertPendingMany(
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
      idempotencyKey: expiryKey(h.id, h.attempt),
      requestHash: requestHash({ type: "void", holdId: h.id, metadata }),
    })),
  );
  if (inserted.size === 0) return;
  deps.log.info({ voids: inserted.size }, "sweeper: voiding expired holds");
  await ringEach(
    deps,
    [...new Set([...inserted.values()].map((op) => op.partition))],
    "ringing an expiry void's partition",
  );
}
