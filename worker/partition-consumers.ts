import { Worker } from "bullmq";
import type { Logger } from "pino";
import { errorSummary } from "../shared/log-safe.ts";
import { type Keyspace, parsePayload, queueCatalog } from "../shared/queues/catalog.ts";
import { bounded } from "../shared/redis/bounded.ts";
import type { RedisClient } from "../shared/redis/connection.ts";
import type { RunOutcome } from "./partition-runner.ts";

/** A replaced queue worker gets this long to close, ms; it is left to itself after that. */
const CLOSE_REPLACED_MS = 5_000;
/**
 * After a failed doorbell job, its partition is rung again after this long, ms, doubling with
 * each failure in a row up to {@link RERING_MAX_MS}: the work is still there, and an error
 * that repeats must not turn into a busy loop.
 */
const RERING_FIRST_MS = 250;
const RERING_MAX_MS = 30_000;

/**
 * This process's BullMQ workers, one per partition queue (global concurrency 1 per queue, so one
 * runner per partition across all processes): each runs `run(partition)` for a doorbell. Those
 * of the partitions dealt to this process consume, the others are paused; a wedged one is
 * replaced by a new one (wedge-watchdog.ts).
 */
export class PartitionConsumers {
  private readonly opts: {
    partitions: number;
    redis: RedisClient;
    keys: Keyspace;
    log: Logger;
    run: (partition: number) => Promise<RunOutcome>;
    /** A doorbell job ended with work possibly left ("stopped", "handed-over", or it failed). */
    onLeftWork: (partition: number) => void;
    onStarted?: (partition: number) => void;
  };
  private readonly workers: Worker[];
  private readonly running = new Set<number>();
  /** Doorbell jobs failed in a row, per partition (reset by one that completes). */
  private readonly failures = new Map<number, number>();
  private readonly rerings = new Set<NodeJS.Timeout>();
  private owns: (partition: number) => boolean = () => true;

  constructor(opts: PartitionConsumers["opts"]) {
    this.opts = opts;
    this.workers = Array.from({ length: opts.partitions }, (_, p) => this.make(p));
  }

  private make(partition: number): Worker {
    const { keys, redis, log } = this.opts;
    const worker = new Worker(
      keys.queueName("doorbell", partition),
      async (job) => {
        const { partition: p } = parsePayload("doorbell", job.data);
        this.running.add(p);
        this.opts.onStarted?.(p);
        try {
          return await this.opts.run(p);
        } finally {
          this.running.delete(p);
        }
      },
      { connection: redis, prefix: keys.prefix, ...queueCatalog.doorbell.workerOptions },
    );
    // Work possibly left: a fresh doorbell, added once the job has completed. Added while it is
    // still active, the job would find the queue at its global concurrency, and BullMQ then
    // wakes no waiting worker: the next owner would only see it at its next poll, seconds later.
    // (If this process dies in between, the sweeper rings.)
    worker.on("completed", (_job, outcome: RunOutcome) => {
      this.failures.delete(partition);
      if (outcome !== "drained") this.opts.onLeftWork(partition);
    });
    worker.on("error", (err) => log.error({ partition, err: errorSummary(err) }, "queue worker error"));
    // A failed runner (an error it does not retry, a dirty flag it could not clear) leaves its
    // operations pending and the flag set, which keeps the api's rings from adding a job: ring
    // again here, after a pause, rather than leave the partition to the sweeper.
    worker.on("failed", (job, err) => {
      const inARow = (this.failures.get(partition) ?? 0) + 1;
      this.failures.set(partition, inARow);
      const delayMs = Math.min(RERING_MAX_MS, RERING_FIRST_MS * 2 ** (inARow - 1));
      log.error(
        { partition, jobId: job?.id, err: errorSummary(err), delayMs },
        "doorbell job failed; ringing again",
      );
      const timer = setTimeout(() => {
        this.rerings.delete(timer);
        this.opts.onLeftWork(partition);
      }, delayMs);
      this.rerings.add(timer);
    });
    return worker;
  }

  /**
   * Consumes only the queues of the partitions `owns` accepts. Pausing does not wait for a
   * running job: its runner hands the partition over after its current batch, and a paused
   * queue worker does not fetch that queue's next job.
   */
  apply(owns: (partition: number) => boolean): void {
    this.owns = owns;
    for (const [p, w] of this.workers.entries()) this.steer(p, w);
  }

  private steer(partition: number, w: Worker): void {
    if (this.owns(partition)) void w.resume();
    else void w.pause(true);
  }

  /** How many partitions this process runs a runner on now. */
  runnerCount(): number {
    return this.running.size;
  }

  /** True when this process runs no runner on `partition`. */
  idle(partition: number): boolean {
    return !this.running.has(partition);
  }

  /** Closes `partition`'s queue worker (without waiting for it past a bound) and makes a new one. */
  replace(partition: number): void {
    const old = this.workers[partition];
    const fresh = this.make(partition);
    this.workers[partition] = fresh;
    this.steer(partition, fresh);
    if (old) {
      bounded(old.close(true), CLOSE_REPLACED_MS, "closing a replaced queue worker").catch((err: unknown) =>
        this.opts.log.warn({ partition, err: errorSummary(err) }, "a replaced queue worker did not close"),
      );
    }
  }

  /** Lets running runners finish, then closes every queue worker. */
  async close(): Promise<void> {
    for (const timer of this.rerings) clearTimeout(timer);
    this.rerings.clear();
    await Promise.all(this.workers.map((w) => w.close()));
  }
}
