import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { OPERATION_TYPES, type OperationType } from "../db/schema/operations.ts";
import { FAILURE_MESSAGES, type FailureCode } from "../errors.ts";

/** One committed batch, as the partition runner reports it. */
export interface BatchReport {
  /** Time from BEGIN to COMMIT, s. */
  seconds: number;
  operations: readonly {
    type: OperationType;
    /** "succeeded", or the failure code. */
    result: "succeeded" | FailureCode;
    /** From acceptance (created_at) to this batch's commit, s. */
    latencySeconds: number;
  }[];
  /** Operations it left pending for a later batch: another batch held a wallet they needed. */
  deferred?: number;
}

/** The worker's metrics: what the partition runners applied, how fast, in what batches. */
export interface WorkerMetrics {
  readonly registry: Registry;
  /** Counts by batch (one `inc` per distinct label set), observes each operation's latency. */
  batchCommitted(report: BatchReport): void;
  /**
   * A partition runner ended: its partition drained, the process stopped, or it handed its
   * partition over to the process it is now dealt to (also counted as a handover).
   */
  runEnded(outcome: "drained" | "stopped" | "handed-over"): void;
  /** Reads the number of partitions dealt to this process at each scrape. */
  partitionsAssigned(read: () => number): void;
  /** A partition's queue worker took no doorbell for too long and was replaced. */
  queueWorkerReplaced(): void;
}

/** Accept → completed latency buckets, s: from one batch round trip to a long outage. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];
const BATCH_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Every type and failure code, for the series made at start. */
const TYPES = OPERATION_TYPES;
const FAILURE_CODES = Object.keys(FAILURE_MESSAGES) as FailureCode[];

/** Registers the worker's metrics in `registry`. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const applied = new Counter({
    name: "billing_operations_applied_total",
    help: "Operations that succeeded, by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  const failed = new Counter({
    name: "billing_operations_failed_total",
    help: "Operations that failed, by type and failure code (insufficient_funds, balance_limit_exceeded, hold_not_active, internal_error)",
    labelNames: ["type", "code"] as const,
    registers: [registry],
  });
  // Every series exists from the start, at 0: a counter born at 1 has no increase() in
  // Prometheus, so the first internal_error of a process would raise no alert.
  for (const type of TYPES) {
    applied.inc({ type }, 0);
    for (const code of FAILURE_CODES) failed.inc({ type, code }, 0);
  }
  const latency = new Histogram({
    name: "billing_operation_completion_seconds",
    help: "From acceptance (created_at, Postgres clock) to the commit of the batch that completed the operation, s",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "billing_batch_size",
    help: "Operations per committed partition batch",
    buckets: BATCH_SIZE_BUCKETS,
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: "billing_batch_duration_seconds",
    help: "Duration of one partition batch transaction, BEGIN to COMMIT, s",
    buckets: BATCH_SECONDS_BUCKETS,
    registers: [registry],
  });

  const deferred = new Counter({
    name: "billing_operations_deferred_total",
    help: "Operations a batch left pending for the next one because another partition's batch held a wallet they needed",
    registers: [registry],
  });
  const handovers = new Counter({
    name: "billing_partition_handovers_total",
    help: "Partitions this process handed over between two batches because they were dealt to another worker process",
    registers: [registry],
  });
  const runs = new Counter({
    name: "billing_partition_runs_total",
    help: "Partition runners that ended, by outcome (drained, stopped, handed-over): each drained one's partition needs a new doorbell job for its next operation",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  for (const outcome of ["drained", "stopped", "handed-over"]) runs.inc({ outcome }, 0);
  const replacements = new Counter({
    name: "billing_queue_worker_replacements_total",
    help: "Queue workers of this process closed and made anew because their partition's doorbells waited while they took none",
    registers: [registry],
  });
  let readAssigned = (): number => 0;
  new Gauge({
    name: "billing_partitions_assigned",
    help: "Partitions dealt to this worker process: the queues it consumes",
    registers: [registry],
    collect() {
      this.set(readAssigned());
    },
  });

  return {
    registry,
    runEnded(outcome) {
      runs.inc({ outcome });
      if (outcome === "handed-over") handovers.inc();
    },
    queueWorkerReplaced: () => replacements.inc(),
    partitionsAssigned(read) {
      readAssigned = read;
    },
    batchCommitted(report) {
      if (report.deferred) deferred.inc(report.deferred);
      if (report.operations.length === 0) return;
      batchSize.observe(report.operations.length);
      batchSeconds.observe(report.seconds);
      // Count per label set first: a handful of `inc` calls per batch, not one per operation.
      const counts = new Map<string, number>();
      for (const op of report.operations) {
        latency.observe(op.latencySeconds);
        const key = `${op.type} ${op.result}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, n] of counts) {
        const [type = "", result = ""] = key.split(" ");
        if (result === "succeeded") applied.inc({ type }, n);
        else failed.inc({ type, code: result }, n);
      }
    },
  };
}
