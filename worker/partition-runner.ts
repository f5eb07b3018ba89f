import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Database } from "../shared/db/client.ts";
import { isTransientDbError } from "../shared/db/pg-errors.ts";
import { transaction } from "../shared/db/transaction.ts";
import { FAILURE_MESSAGES } from "../shared/errors.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { applyBatch, type BatchOperation } from "./apply-batch.ts";
import {
  type Completed,
  fundingAccounts,
  lockPending,
  lockWallets,
  setOutcomes,
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
  db: Database;
  batchCap: number;
  log: Logger;
  /** Deletes the partition's dirty flag; runs before every select (the doorbell protocol). */
  clearDirty: (partition: number) => Promise<void>;
  /** Announces the completed operation ids of one batch, after its commit. */
  publish: (ids: string[]) => Promise<void>;
  /** After a commit that wrote webhook deliveries: wakes this process's sender (no I/O, never throws). */
  deliveriesWritten?: () => void;
  /** True once the process is shutting down: finish the current batch, then hand over. */
  stopping: () => boolean;
  hooks?: RunnerHooks;
}

export type RunOutcome = "drained" | "stopped";

export class StoppedError extends Error {}

/**
 * Applies the partition's pending operations in acceptance order, a batch per transaction,
 * until none is left ("drained") or the process stops ("stopped": the caller rings again).
 * A non-transient error re-runs the failed batch's operations one at a time; the one that still
 * fails is marked `failed` with `internal_error`, so a poison operation never freezes a partition.
 */
export async function runPartition(partition: number, deps: RunnerDeps): Promise<RunOutcome> {
  let singleSteps = 0; // operations still to apply one at a time after a failed batch
  for (;;) {
    if (deps.stopping()) return "stopped";
    await retryTransient(() => deps.clearDirty(partition), deps);
    const cap = singleSteps > 0 ? 1 : deps.batchCap;
    const attempted: string[] = [];
    let completed: Completed;
    try {
      completed = await retryTransient(() => applyNextBatch(partition, cap, deps, attempted), deps);
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
      completed = await retryTransient(() => markInternalError(deps.db, poison), deps);
    }
    if (attempted.length === 0) {
      await deps.hooks?.afterEmptySelect?.(partition);
      return "drained";
    }
    if (cap === 1 && singleSteps > 0) singleSteps--;
    if (completed.deliveries > 0) deps.deliveriesWritten?.();
    await deps.publish(completed.ids).catch((err: unknown) => {
      // Waiters re-read Postgres every second; a lost announcement only delays them.
      deps.log.warn({ partition, err: errorSummary(err) }, "could not publish completions");
    });
  }
}

/** One batch in one transaction; returns what it completed. `attempted` receives the selected ids. */
async function applyNextBatch(
  partition: number,
  cap: number,
  deps: RunnerDeps,
  attempted: string[],
): Promise<Completed> {
  const started = performance.now();
  const completed = await transaction(deps.db, async (tx) => {
    attempted.length = 0;
    const pending = await lockPending(tx, partition, cap);
    if (pending.length === 0) return { ids: [], deliveries: 0 };
    attempted.push(...pending.map((op) => op.id));

    const topUpCurrencies = [
      ...new Set(pending.filter((op) => op.type === "top_up").map((op) => op.currency)),
    ];
    const funding =
      topUpCurrencies.length > 0 ? await fundingAccounts(tx, partition, topUpCurrencies) : new Map();
    const operations: BatchOperation[] = pending.map((op) => {
      const debitWalletId = op.fromWalletId ?? funding.get(op.currency);
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
  const { ids } = completed;
  if (ids.length > 0) {
    deps.log.debug(
      {
        partition,
        batchSize: ids.length,
        deliveries: completed.deliveries,
        ms: Math.round(performance.now() - started),
        operationIds: ids,
      },
      "batch committed",
    );
  }
  return completed;
}

/** Sets one operation aside: `failed` with `internal_error`, no entries, no money moved (its webhooks are written). */
async function markInternalError(db: Database, operationId: string): Promise<Completed> {
  return transaction(db, (tx) =>
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
