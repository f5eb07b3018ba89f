import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { Logger } from "pino";
import { isTransientDbError } from "../shared/db/pg-errors.ts";
import { pgTransaction } from "../shared/db/pg-transaction.ts";
import { FAILURE_MESSAGES } from "../shared/errors.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { applyBatch, type BatchOperation } from "./apply-batch.ts";
import {
  fundingAccounts,
  lockPending,
  lockWallets,
  type PendingRow,
  setOutcomes,
  type TxClient,
  writeBatch,
} from "./batch-repo.ts";

/** Test seams. Production passes none. */
export interface RunnerHooks {
  /** Runs after a select found nothing pending, before the runner returns (the doorbell race). */
  afterEmptySelect?: (partition: number) => Promise<void>;
  /** Runs inside the batch transaction before an operation is applied; a throw makes it poison. */
  beforeApply?: (operationId: string) => void;
}

export interface RunnerDeps {
  pool: pg.Pool;
  batchCap: number;
  log: Logger;
  /** Deletes the partition's dirty flag; runs before the select that confirms the partition is drained. */
  clearDirty: (partition: number) => Promise<void>;
  /** Announces the completed operation ids of one batch, after its commit. */
  publish: (ids: string[]) => Promise<void>;
  /** True once the process is shutting down: finish the current batch, then hand over. */
  stopping: () => boolean;
  /** Runs one batch when a slot is free: a bounded number of batch transactions per process. */
  withSlot: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Funding account ids by `${partition}:${currency}`; they never change, so one look-up per process. */
  funding: Map<string, string>;
  hooks?: RunnerHooks;
}

export type RunOutcome = "drained" | "stopped";

export class StoppedError extends Error {}

/**
 * Applies the partition's pending operations in acceptance order, a batch per transaction,
 * until none is left ("drained") or the process stops ("stopped": the caller rings again).
 * A non-transient error re-runs the failed batch's operations one at a time; the one that still
 * fails is marked `failed` with `internal_error`, so a poison operation never freezes a partition.
 *
 * The dirty flag is deleted only once a select found nothing, and then the select is repeated
 * before the runner returns: an operation committed before that delete is seen by the repeated
 * select, and one whose doorbell found the flag deleted added a job, which runs after this one
 * (global concurrency 1). While the runner keeps finding work the flag stays set, so the api's
 * rings find it set and add no job: one doorbell job per busy period, not one per batch.
 */
export async function runPartition(partition: number, deps: RunnerDeps): Promise<RunOutcome> {
  let singleSteps = 0; // operations still to apply one at a time after a failed batch
  let confirming = false; // the last select found nothing: delete the flag, then select again
  for (;;) {
    if (deps.stopping()) return "stopped";
    const cap = singleSteps > 0 ? 1 : deps.batchCap;
    const attempted: string[] = [];
    const clearFirst = confirming;
    let completed: string[];
    try {
      completed = await retryTransient(
        () =>
          deps.withSlot(async () => {
            // Inside the slot, right before the select: a runner that waited for a slot does
            // not invite a doorbell for operations its select takes anyway.
            if (clearFirst) await deps.clearDirty(partition);
            return applyNextBatch(partition, cap, deps, attempted);
          }),
        deps,
      );
    } catch (err) {
      if (err instanceof StoppedError) return "stopped";
      const poison = attempted[0];
      if (!poison) throw err; // nothing selected: not an operation's fault
      if (cap > 1) {
        deps.log.warn(
          { partition, err: errorSummary(err) },
          "batch failed; applying its operations one by one",
        );
        singleSteps = attempted.length;
        continue;
      }
      deps.log.error(
        { partition, operationId: poison, err: errorSummary(err) },
        "operation set aside as internal_error",
      );
      completed = await retryTransient(() => markInternalError(deps.pool, poison), deps);
    }
    if (attempted.length === 0) {
      if (!confirming) {
        confirming = true;
        continue;
      }
      await deps.hooks?.afterEmptySelect?.(partition);
      return "drained";
    }
    confirming = false;
    if (cap === 1 && singleSteps > 0) singleSteps--;
    await deps.publish(completed).catch((err: unknown) => {
      // Waiters re-read Postgres every second; a lost announcement only delays them.
      deps.log.warn({ partition, err: errorSummary(err) }, "could not publish completions");
    });
  }
}

/** One batch in one transaction; returns the ids it completed. `attempted` receives the selected ids. */
async function applyNextBatch(
  partition: number,
  cap: number,
  deps: RunnerDeps,
  attempted: string[],
): Promise<string[]> {
  const started = performance.now();
  const ids = await pgTransaction(deps.pool, async (tx) => {
    attempted.length = 0;
    const pending = await lockPending(tx, partition, cap);
    if (pending.length === 0) return [];
    attempted.push(...pending.map((op) => op.id));

    const funding = await fundingFor(tx, partition, pending, deps.funding);
    const operations: BatchOperation[] = pending.map((op) => {
      const debitWalletId = op.fromWalletId ?? funding.get(`${partition}:${op.currency}`);
      if (!debitWalletId) throw new Error(`no funding account for ${op.currency} in partition ${partition}`);
      return { id: op.id, amount: op.amount, debitWalletId, creditWalletId: op.toWalletId };
    });

    const locked = await lockWallets(
      tx,
      operations.flatMap((op) => [op.debitWalletId, op.creditWalletId]),
    );
    if (deps.hooks?.beforeApply) for (const op of operations) deps.hooks.beforeApply(op.id);
    const result = applyBatch(operations, locked);
    return writeBatch(tx, result, FAILURE_MESSAGES);
  });
  if (ids.length > 0) {
    deps.log.debug(
      { partition, batchSize: ids.length, ms: Math.round(performance.now() - started), operationIds: ids },
      "batch committed",
    );
  }
  return ids;
}

/** The funding accounts the batch's top-ups debit, from the process cache; read once when missing. */
async function fundingFor(
  tx: TxClient,
  partition: number,
  pending: PendingRow[],
  cache: Map<string, string>,
): Promise<Map<string, string>> {
  const missing = [
    ...new Set(
      pending
        .filter((op) => op.type === "top_up" && !cache.has(`${partition}:${op.currency}`))
        .map((op) => op.currency),
    ),
  ];
  if (missing.length > 0) {
    for (const [currency, id] of await fundingAccounts(tx, partition, missing)) {
      cache.set(`${partition}:${currency}`, id);
    }
  }
  return cache;
}

/** Sets one operation aside: `failed` with `internal_error`, no entries, no money moved. */
async function markInternalError(pool: pg.Pool, operationId: string): Promise<string[]> {
  return pgTransaction(pool, (tx) =>
    setOutcomes(tx, [
      {
        id: operationId,
        status: "failed",
        failureCode: "internal_error",
        failureMessage: FAILURE_MESSAGES.internal_error,
      },
    ]),
  );
}

/**
 * Retries `fn` on transient database errors (deadlock, serialization, lock timeout, lost
 * connection) with capped exponential backoff, for as long as the process is not stopping.
 */
async function retryTransient<T>(fn: () => Promise<T>, deps: RunnerDeps): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientDbError(err)) throw err;
      if (deps.stopping()) throw new StoppedError("stopping during a transient error");
      const delay = Math.min(2_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
      deps.log.warn(
        { err: errorSummary(err), attempt, delayMs: Math.round(delay) },
        "transient error; retrying",
      );
      await sleep(delay);
    }
  }
}
