import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { errorSummary } from "../shared/log-safe.ts";

/**
 * This process's fair share of the partitions, and the partitions it runs now.
 *
 * BullMQ hands a queue's next job to the worker that completes the previous one, so a partition
 * whose busy period never ends stays with the process that first took it, and one process can
 * end up running every partition while the others idle (BATCH_CONCURRENCY then bounds the whole
 * deployment, not each process). A runner therefore asks, between batches, whether its process
 * holds more than `ceil(partitions / live worker processes)`; if so it hands its partition over
 * (finishes, rings a fresh doorbell, and its queue worker pauses briefly so another process takes
 * it). A decision to leave counts at once, so runners deciding together do not overshoot.
 */
export class PartitionShare {
  private readonly partitions: number;
  private held = 0;
  private leaving = 0;
  private live = 1;

  constructor(partitions: number) {
    this.partitions = partitions;
  }

  /** Worker processes of the deployment, this one included (from the {@link WorkerRoster}). */
  setLiveWorkers(n: number): void {
    this.live = Math.max(1, n);
  }

  fairShare(): number {
    return Math.ceil(this.partitions / this.live);
  }

  /** A runner of this process took a partition. */
  enter(): void {
    this.held++;
  }

  /** A runner returned; `handedOver` when {@link shouldHandOver} had told it to. */
  leave(handedOver: boolean): void {
    this.held--;
    if (handedOver) this.leaving--;
  }

  /** Between batches: true if this runner should hand its partition over (then counted as leaving). */
  shouldHandOver(): boolean {
    if (this.held - this.leaving <= this.fairShare()) return false;
    this.leaving++;
    return true;
  }

  /** Partitions this process runs now, those already leaving excluded. */
  heldCount(): number {
    return this.held - this.leaving;
  }
}

/** How often a worker process announces itself, and after how long without one it is gone. */
const HEARTBEAT_MS = 1_000;
const EXPIRY_MS = 5_000;

/**
 * The live worker processes of a deployment: each heartbeats its id into a sorted set (score:
 * time) and counts the members seen in the last {@link EXPIRY_MS}. One round trip a second per
 * process; when Redis does not answer, the last count stands.
 */
export class WorkerRoster {
  private readonly redis: Redis;
  private readonly key: string;
  private readonly id: string;
  private readonly onLive: (n: number) => void;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(opts: { redis: Redis; prefix: string; id: string; onLive: (n: number) => void; log: Logger }) {
    this.redis = opts.redis;
    this.key = `${opts.prefix}:workers`;
    this.id = opts.id;
    this.onLive = opts.onLive;
    this.log = opts.log;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const now = Date.now();
    try {
      const replies = await this.redis
        .multi()
        .zadd(this.key, now, this.id)
        .zremrangebyscore(this.key, "-inf", now - EXPIRY_MS)
        .zcard(this.key)
        .pexpire(this.key, EXPIRY_MS * 2)
        .exec();
      const count = replies?.[2]?.[1];
      if (typeof count === "number") this.onLive(count);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: errorSummary(err) }, "worker heartbeat failed");
      this.failing = true;
    }
  }

  /** Leaves the roster at once, so the others' share grows without waiting for the expiry. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.zrem(this.key, this.id).catch(() => {});
  }
}
