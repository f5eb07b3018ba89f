import type pg from "pg";
import type { Logger } from "pino";
import type { Queryable } from "../shared/db/client.ts";
import { isTransientDbError } from "../shared/db/pg-errors.ts";
import { batchTransaction } from "../shared/db/transaction.ts";
import { FAILURE_MESSAGES } from "../shared/errors.ts";
import { errorSummary } from "../shared/log-safe.ts";
import type { BatchReport, WorkerMetrics } from "../shared/metrics/worker-metrics.ts";
import { retrying } from "../shared/retry.ts";
import { applyBatch, type BatchResult } from "./apply-batch.ts";
import { applicableNow, planBatch } from "./batch-plan.ts";
import {
  type Completed,
  fundingFor,
  hasPending,
  lockWallets,
  type PendingOperation,
  readPending,
  setOutcomes,
  writeBatch,
} from "./batch-repo.ts";
import type { BatchSlots, Settled, SlotRequest } from "./batch-slots.ts";
import { lockHolds } from "./hold-repo.ts";
import { lockOriginals } from "./original-repo.ts";

/** Test seams. Production passes none. */
export interface RunnerHooks {
  /** Runs at the start of each batch attempt, before its connection is checked out (a failure to connect). */
  beforeBatch?: (partition: number) => Promise<void>;
  /** Runs inside the batch transaction once its pending operations are read (under their partitions' lock), before the wallets are locked. */
  afterLockPending?: (partition: number, operationIds: string[]) => Promise<void>;
  /** Runs after a select found nothing pending, before the runner returns (the doorbell race). */
  afterEmptySelect?: (partition: number) => Promise<void>;
  /** Runs inside the batch transaction before an operation is applied; a throw makes it poison. */
  beforeApply?: (operationId: string) => void;
  /** Runs inside the batch transaction after its writes, before COMMIT (a crash here must leave nothing). */
  beforeCommit?: (partition: number, operationIds: string[]) => Promise<void>;
}

export interface RunnerDeps {
  pool: pg.Pool;
  /**
   * Most operations of one partition in the next batch, asked inside its slot right before its
   * select, for a batch of `partitions` partitions: larger while no other runner of the process
   * has work (start-worker.ts, `BATCH_CAP` and `BATCH_CAP_SHARED`).
   */
  batchCap: (partitions: number) => number;
  log: Logger;
  /** Deletes the partition's dirty flag; runs before the select that confirms the partition is drained. */
  clearDirty: (partition: number) => Promise<void>;
  /** Announces the completed operation ids of one batch, after its commit. */
  publish: (ids: string[]) => Promise<void>;
  /** After a commit that wrote webhook deliveries: wakes this process's sender (no I/O, never throws). */
  deliveriesWritten?: () => void;
  /** True once the process is shutting down: finish the current batch, then hand over. */
  stopping: () => boolean;
  /**
   * Turns a runner whose select found nothing stays as a rider before it confirms its partition
   * drained (0 when absent): see {@link runPartition}.
   */
  lingerTurns?: number;
  /** The process's runners with work now (1 when absent): what a partition's share of a batch is counted over. */
  busyRunners?: () => number;
  /** Asked between batches: true when the partition is now another process's (partition-assignment.ts). */
  handOver?: (partition: number) => boolean;
  /**
   * A bounded number of batch transactions per process; the runners that wait for one when it
   * frees run their batches together, in one transaction (batch-slots.ts).
   */
  slots: BatchSlots;
  /** The process's cache of funding account ids ({@link fundingFor}); they never change, so one look-up per process. */
  funding: Map<string, string>;
  metrics?: Pick<WorkerMetrics, "batchCommitted">;
  hooks?: RunnerHooks;
}

/** An operation a batch selected, and when (performance.now(), ms) its row was locked. */
type Attempted = PendingOperation & { lockedAt: number };

/** "stopped" and "handed-over": work may be left, so the caller rings a fresh doorbell. */
export type RunOutcome = "drained" | "stopped" | "handed-over";

export class StoppedError extends Error {}

/**
 * Applies the partition's pending operations in acceptance order, a batch per transaction (one
 * shared with the other runners of the process that waited for a batch slot with it: {@link
 * applyGroup}), until none is left ("drained"), the process stops ("stopped") or the partition was dealt to
 * another process ("handed-over", between two batches); after those two the caller rings again.
 * A non-transient error re-runs the failed batch's operations one at a time; the one that still
 * fails is marked `failed` with `internal_error`, so a poison operation never freezes a partition.
 *
 * The dirty flag is deleted only once a select found nothing, and then the select is repeated
 * before the runner returns: an operation committed before that delete is seen by the repeated
 * select, and one whose doorbell found the flag deleted added a job, which runs after this one
 * (global concurrency 1). While the runner keeps finding work the flag stays set, so the api's
 * rings find it set and add no job: one doorbell job per busy period, not one per batch.
 * The confirming select is first a question, asked without a transaction ({@link hasPending}):
 * a partition found drained costs one round trip there instead of three.
 *
 * Before it confirms, a runner whose select found nothing lingers for `lingerTurns` turns as a
 * rider: its partition's select rides along the batches other runners' work opens (an index probe
 * more in their statement), or, when none has work, is a question shared by the riders
 * (batch-slots.ts paces those turns). An operation accepted meanwhile is applied by this run,
 * without a new doorbell job: fewer doorbell cycles when partitions are often briefly empty.
 */
export async function runPartition(partition: number, deps: RunnerDeps): Promise<RunOutcome> {
  let singleSteps = 0; // operations still to apply one at a time after a failed batch
  let confirming = false; // the last select found nothing: delete the flag, then ask again
  let waits = false; // the last batch left the partition's oldest operation pending
  let backlog = false; // the last batch would have filled its share of a batch of every busy runner
  let idle = 0; // turns in a row that found nothing (the runner is a rider while it lingers)
  for (;;) {
    if (deps.stopping()) return "stopped";
    const single = singleSteps > 0;
    // A runner lingers (idle > 0) only while neither confirming nor isolating a failure.
    const ask: Ask = { partition, confirming, single, alone: single || backlog, waits, rider: idle > 0 };
    let batch: Batch;
    try {
      batch = await retryTransient(() => deps.slots.run(ask, (group) => applyGroup(group, deps)), deps);
    } catch (err) {
      if (err instanceof StoppedError) return "stopped";
      // Only the attempt that failed can name a culprit: one that failed before its select
      // (no connection, say) took no operation, whatever an earlier attempt had selected.
      if (!(err instanceof BatchFailed)) throw err;
      const { attempted, cause } = err;
      const poison = attempted[0];
      if (!poison) throw cause; // nothing selected: not an operation's fault
      idle = 0;
      // A batch of several operations, or of several partitions, names no culprit: its
      // operations are tried again one at a time, each in a batch of its own.
      if (!ask.single) {
        deps.log.warn(
          { partition, err: errorSummary(cause) },
          "batch failed; applying its operations one by one",
        );
        singleSteps = attempted.length;
        continue;
      }
      deps.log.error(
        { partition, operationId: poison.id, err: errorSummary(cause) },
        "operation set aside as internal_error",
      );
      const started = performance.now();
      const completed = await retryTransient(() => markInternalError(deps.pool, poison.id), deps);
      if (completed.ids.length > 0) {
        deps.metrics?.batchCommitted({
          seconds: (performance.now() - started) / 1000,
          operations: [{ type: poison.type, result: "internal_error", latencySeconds: latencyOf(poison) }],
        });
      }
      batch = { attempted, completed, announce: completed.ids };
    }
    if (batch.announce.length > 0) {
      await deps.publish(batch.announce).catch((err: unknown) => {
        // Waiters re-read Postgres every second; a lost announcement only delays them.
        deps.log.warn({ partition, err: errorSummary(err) }, "could not publish completions");
      });
    }
    if (batch.attempted.length === 0) {
      backlog = false; // a partition that ran dry rides along again
      if (!confirming) {
        // Dealt elsewhere: the new owner confirms it drained (the caller rings for it).
        if (singleSteps === 0 && deps.handOver?.(partition)) return "handed-over";
        if (singleSteps === 0 && idle < (deps.lingerTurns ?? 0)) {
          idle++;
          continue;
        }
        idle = 0;
        confirming = true;
        continue;
      }
      await deps.hooks?.afterEmptySelect?.(partition);
      return "drained";
    }
    idle = 0;
    confirming = false;
    waits = !batch.completed.ids.includes((batch.attempted[0] as Attempted).id);
    backlog = batch.attempted.length >= deps.batchCap(deps.busyRunners?.() ?? 1);
    if (ask.single) singleSteps--;
    if (batch.completed.deliveries > 0) deps.deliveriesWritten?.();
    // Not while a failed batch is being isolated: the next runner would start that over.
    if (singleSteps === 0 && deps.handOver?.(partition)) return "handed-over";
  }
}

/** What a batch that found nothing completed. */
const NOTHING: Completed = { ids: [], deliveries: 0 };

/** One batch attempt's selected operations and what it completed. */
interface Batch {
  attempted: Attempted[];
  completed: Completed;
  /**
   * The ids its runner announces once the batch committed: the whole batch's on one part of a
   * group, none on the others, so that a batch of several partitions is one message to every api
   * process rather than one per partition.
   */
  announce: string[];
}

/** A batch attempt failed; `attempted` are the operations this attempt selected (none if it failed before). */
class BatchFailed extends Error {
  readonly attempted: Attempted[];
  constructor(cause: unknown, attempted: Attempted[]) {
    super("batch attempt failed", { cause });
    this.attempted = attempted;
  }
}

/** From acceptance to now, s: the age Postgres measured at lock time plus the time since. */
const latencyOf = (op: Attempted): number => (op.ageMs + performance.now() - op.lockedAt) / 1000;

/**
 * A runner's request for its next batch: `confirming` after a select found nothing, `single`
 * (one operation) while isolating a failure. It runs `alone` then, and also while its partition
 * has a backlog: its last batch would have filled its share of a batch of every busy runner of
 * the process (`batchCap(busyRunners())`). Such a partition fills a batch of its own (up to
 * `BATCH_CAP_SHARED`, or `BATCH_CAP`), and grouping it with others would only make its batches
 * smaller and its operations wait longer (`bulk`'s settle lag grew by half, docs/performance.md).
 */
interface Ask extends SlotRequest {
  partition: number;
  confirming: boolean;
  single: boolean;
  /** Its last batch left its oldest operation for later (a wallet was busy): this one waits for its wallets. */
  waits: boolean;
  /** Its last select found nothing: it selects only as part of a batch other runners' asks make. */
  rider: boolean;
}

/** One runner's part of a group's batch: what it asked, then what it selected. */
interface Part {
  ask: Ask;
  attempted: Attempted[];
  /** Set once the batch's select ran: from then on an empty part found nothing pending. */
  selected: boolean;
  /** What the batch completed of it, once committed. */
  completed?: Completed;
}

const fail = (cause: unknown, attempted: Attempted[]): Settled<Batch> => ({
  ok: false,
  error: new BatchFailed(cause, attempted),
});

/**
 * The batches of the runners that waited for a slot together, in one transaction: each asked
 * partition's oldest pending operations, up to `batchCap(group size)` each (one for an ask
 * `single`, always in a group of its own). Settles each ask with its own part: the operations it
 * selected and those it completed, or {@link BatchFailed} carrying only its operations. The
 * confirming asks clear their flags first and are asked, all at once and without a transaction,
 * whether anything is pending ({@link hasPending}); those that find nothing end there. So are
 * the riders of a group with no other work: an idle turn costs one question, not a transaction.
 */
async function applyGroup(asks: Ask[], deps: RunnerDeps): Promise<Settled<Batch>[]> {
  const started = performance.now();
  const found = (batch: Batch): Settled<Batch> => ({ ok: true, value: batch });
  const nothing = found({ attempted: [], completed: NOTHING, announce: [] });
  const settled: Settled<Batch>[] = asks.map(() => nothing);
  const live: (Part & { i: number })[] = [];
  await Promise.all(
    asks.map(async (ask, i) => {
      // One runner per partition: a second ask of a partition already in the group finds nothing.
      if (asks.findIndex((a) => a.partition === ask.partition) !== i) return;
      try {
        // Inside the slot, right before the select: a runner that waited for a slot does not
        // invite a doorbell for operations its select takes anyway.
        if (ask.confirming) await deps.clearDirty(ask.partition);
        await deps.hooks?.beforeBatch?.(ask.partition);
        live.push({ i, ask, attempted: [], selected: false });
      } catch (err) {
        settled[i] = fail(err, []);
      }
    }),
  );
  let parts = live;
  try {
    // The confirming asks, and the riders unless another ask opens a transaction anyway.
    const working = parts.some((part) => !part.ask.confirming && !part.ask.rider);
    const asked = parts.filter((part) => part.ask.confirming || (part.ask.rider && !working));
    if (asked.length > 0) {
      const busy = await hasPending(
        deps.pool,
        asked.map((part) => part.ask.partition),
      );
      parts = parts.filter((part) => !asked.includes(part) || busy.has(part.ask.partition));
    }
    if (parts.length > 0) await applyParts(parts, started, deps);
    const announce = parts.flatMap((part) => part.completed?.ids ?? []);
    parts.forEach((part, k) => {
      const completed = part.completed ?? NOTHING;
      settled[part.i] = found({ attempted: part.attempted, completed, announce: k === 0 ? announce : [] });
    });
  } catch (err) {
    // A part whose select ran and found nothing failed for other partitions' operations.
    for (const part of parts) {
      if (!part.selected || part.attempted.length > 0) settled[part.i] = fail(err, part.attempted);
    }
  }
  return settled;
}

/**
 * One batch transaction for `parts`: locks their partitions' pending operations, applies them
 * and writes the outcome, filling each part's `attempted` as soon as its operations are locked
 * and its `completed` once the batch committed.
 */
async function applyParts(parts: Part[], started: number, deps: RunnerDeps): Promise<void> {
  const cap = deps.batchCap(parts.length);
  const asks = parts.map((part) => ({ partition: part.ask.partition, cap: part.ask.single ? 1 : cap }));
  const byPartition = new Map(parts.map((part) => [part.ask.partition, part]));
  const partOf = (op: PendingOperation) => byPartition.get(op.partition) as Part;
  const idsOf = (part: Part) => part.attempted.map((op) => op.id);
  const { applied, completed } = await batchTransaction(deps.pool, async (tx) => {
    const pending = await readPending(tx, asks);
    const lockedAt = performance.now();
    for (const part of parts) part.selected = true;
    for (const op of pending) partOf(op).attempted.push({ ...op, lockedAt });
    if (pending.length === 0) return { applied: undefined, completed: NOTHING };
    for (const part of parts) {
      if (part.attempted.length > 0) await deps.hooks?.afterLockPending?.(part.ask.partition, idsOf(part));
    }

    const waits = new Set(parts.filter((part) => part.ask.waits).map((part) => part.ask.partition));
    const applied = await lockAndApply(tx, pending, deps.funding, {
      waits,
      ...(deps.hooks?.beforeApply ? { beforeApply: deps.hooks.beforeApply } : {}),
    });
    const written = await writeBatch(tx, pending, applied, FAILURE_MESSAGES);
    for (const part of parts) {
      if (part.attempted.length > 0) await deps.hooks?.beforeCommit?.(part.ask.partition, idsOf(part));
    }
    return { applied, completed: written };
  });
  // One map of the batch's operations by id, for both the split of its completions and its report.
  const byId = new Map(parts.flatMap((part) => part.attempted.map((op) => [op.id, op] as const)));
  for (const part of parts) part.completed = { ids: [], deliveries: completed.deliveries };
  for (const id of completed.ids) {
    const op = byId.get(id);
    if (op) partOf(op).completed?.ids.push(id);
  }
  if (applied) reportBatch(parts, applied, byId, completed, started, deps);
}

/** A batch applied in memory, and how many of its operations it left pending for the next batch. */
export type Applied = BatchResult & { deferred: number };

/**
 * The locked pending operations of a batch, applied in memory: planned; their holds and refunds'
 * originals locked; their wallets locked; applied. What the batch write then writes.
 *
 * Wallets, in one statement, each group in id order: those of the first partition's oldest
 * operation, and of the oldest of each partition in `waits`, are waited for (planBatch puts each
 * partition's oldest first); every other one is taken only if no other batch holds it (`SKIP
 * LOCKED`). The operations that need a wallet the batch could not take, and those after them that
 * share a wallet, hold or original with them, are left pending for the next batch ({@link
 * applicableNow}). So a batch never waits for a wallet another batch is crediting unless an
 * oldest operation it waits for needs it, and it always applies those. Only that part of the
 * statement waits, for their wallets in id order, while the batch holds no other wallet: no cycle
 * of waits can form (docs/design.md, Apply).
 *
 * `beforeApply` (a test seam) sees each operation before it is applied.
 */
export async function lockAndApply(
  tx: Queryable,
  pending: PendingOperation[],
  funding: Map<string, string>,
  { waits, beforeApply }: { waits?: ReadonlySet<number>; beforeApply?: (operationId: string) => void } = {},
): Promise<Applied> {
  const plan = planBatch(pending, await fundingFor(tx, pending, funding), waits);
  const holds = await lockHolds(tx, plan.holdIds);
  const originals = await lockOriginals(tx, plan.originalIds);
  const locked = await lockWallets(tx, plan.headWallets, plan.walletIds);
  const { operations, deferred } = applicableNow(plan, locked);
  if (beforeApply) for (const op of operations) beforeApply(op.id);
  return { ...applyBatch(operations, locked, holds, originals), deferred };
}

/** Metrics and the batch's log line, once it committed. */
function reportBatch(
  parts: Part[],
  { outcomes, deferred }: Applied,
  byId: ReadonlyMap<string, Attempted>,
  completed: Completed,
  started: number,
  deps: RunnerDeps,
): void {
  const seconds = (performance.now() - started) / 1000;
  const report: BatchReport["operations"] = outcomes.map((o) => {
    const op = byId.get(o.operationId) as Attempted;
    return {
      type: op.type,
      result: o.status === "succeeded" ? "succeeded" : o.failureCode,
      latencySeconds: latencyOf(op),
    };
  });
  deps.metrics?.batchCommitted({ seconds, operations: report, deferred });
  const failed = outcomes.filter((o) => o.status === "failed").length;
  // One line per batch at info (at 10k operations/s and ~100 per batch, ~100 lines/s); the ids
  // only at debug, where they would otherwise be most of the log volume.
  deps.log.info(
    {
      partitions: parts.filter((part) => part.attempted.length > 0).map((part) => part.ask.partition),
      batchSize: outcomes.length,
      succeeded: outcomes.length - failed,
      failed,
      deferred,
      deliveries: completed.deliveries,
      durationMs: Math.round(seconds * 10_000) / 10,
      ...(deps.log.isLevelEnabled("debug") ? { operationIds: outcomes.map((o) => o.operationId) } : {}),
    },
    "batch committed",
  );
}

/** Sets one operation aside: `failed` with `internal_error`, no entries, no money moved (its webhooks are written). */
async function markInternalError(pool: pg.Pool, operationId: string): Promise<Completed> {
  return batchTransaction(pool, (tx) =>
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
  return retrying(fn, { firstMs: 25, maxMs: 2_000, jitter: 0.5 }, (err, failures) => {
    if (!isTransientDbError(err)) return false;
    if (deps.stopping()) throw new StoppedError("stopping during a transient error");
    deps.log.warn({ err: errorSummary(err), attempt: failures }, "transient error; retrying");
    return true;
  });
}
