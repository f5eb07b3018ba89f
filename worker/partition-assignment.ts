import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { errorSummary } from "../shared/log-safe.ts";
import { bounded } from "../shared/redis/bounded.ts";
import type { RedisClient } from "../shared/redis/connection.ts";

/**
 * Which partitions this worker process runs, given the live worker processes.
 *
 * BullMQ hands a queue's next job to the worker that completed the previous one, and a partition
 * under steady load never drains, so left alone the process that first took a partition keeps
 * it: one process can end up running every partition while the others idle (and
 * BATCH_CONCURRENCY, a per-process bound, then bounds the whole deployment). So the partitions
 * are dealt out: with the live process ids sorted, partition p belongs to ids[p mod n]. A process
 * consumes only its own partitions' queues (it pauses the others), and a runner of a partition
 * that is no longer its own hands it over between two batches. The assignment only steers work:
 * one runner per partition is still BullMQ's global concurrency, so two processes that briefly
 * disagree (a roster change seen a heartbeat apart) cost nothing but a short wait.
 */
export class PartitionAssignment {
  private readonly partitions: number;
  private readonly self: string;
  private owned: ReadonlySet<number>;

  constructor(partitions: number, self: string) {
    this.partitions = partitions;
    this.self = self;
    this.owned = this.all();
  }

  /** Deals the partitions out over `liveIds`; returns true if this process's share changed. */
  update(liveIds: readonly string[]): boolean {
    const ids = [...new Set(liveIds)].sort();
    const i = ids.indexOf(this.self);
    // Not (yet) in the roster, e.g. Redis was flushed: run everything rather than nothing.
    const next = i < 0 ? this.all() : this.dealt(i, ids.length);
    const changed = next.size !== this.owned.size || [...next].some((p) => !this.owned.has(p));
    this.owned = next;
    return changed;
  }

  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  ownedCount(): number {
    return this.owned.size;
  }

  private dealt(index: number, processes: number): Set<number> {
    const mine = new Set<number>();
    for (let p = index; p < this.partitions; p += processes) mine.add(p);
    return mine;
  }

  private all(): Set<number> {
    return new Set(Array.from({ length: this.partitions }, (_, p) => p));
  }
}

/** How often a worker process announces itself, and after how long without one it is gone. */
const HEARTBEAT_MS = 1_000;
const EXPIRY_MS = 5_000;
/** How long stopping waits to leave the roster before leaving it to the expiry. */
const STOP_WAIT_MS = 1_000;

/**
 * One heartbeat, in Redis, by Redis's clock: stamp this process, drop the members not seen
 * within the expiry, keep the key a while, and return the live members. Scored by each host's
 * own clock instead, a few seconds of skew between hosts gave them different views of who is
 * alive (a host ahead of the others dropped them all), and a partition could end up paused in
 * every process. KEYS[1]: the roster; ARGV: this process's id, the expiry (ms).
 */
const BEAT = `
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local expiry = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - expiry)
  redis.call('PEXPIRE', KEYS[1], expiry * 2)
  return redis.call('ZRANGE', KEYS[1], 0, -1)`;

/**
 * The live worker processes of a deployment: each heartbeats its id into a sorted set scored by
 * Redis's clock ({@link BEAT}) and reads the members seen in the last {@link EXPIRY_MS}. One
 * round trip a second per process; when Redis does not answer, the last roster stands.
 */
export class WorkerRoster {
  private readonly redis: RedisClient;
  private readonly key: string;
  private readonly id: string;
  private readonly onRoster: (ids: string[]) => void;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private beating = false;

  constructor(opts: {
    redis: RedisClient;
    prefix: string;
    id: string;
    onRoster: (ids: string[]) => void;
    log: Logger;
  }) {
    this.redis = opts.redis;
    this.key = `${opts.prefix}:workers`;
    this.id = opts.id;
    this.onRoster = opts.onRoster;
    this.log = opts.log;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    // The worker's connection queues commands while Redis is away: one heartbeat at a time.
    if (this.beating) return;
    this.beating = true;
    try {
      // Bounded: one heartbeat at a time, so one that never answers would be the last.
      const ids = await bounded(
        this.redis.eval(BEAT, 1, this.key, this.id, EXPIRY_MS),
        EXPIRY_MS,
        "heartbeat",
      );
      if (Array.isArray(ids)) this.onRoster(ids.map(String));
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: errorSummary(err) }, "worker heartbeat failed");
      this.failing = true;
    } finally {
      this.beating = false;
    }
  }

  /** Leaves the roster at once, so the others take this process's partitions without waiting for the expiry. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    // Bounded: with Redis away the command would wait for a reconnect; the entry expires anyway.
    await Promise.race([
      this.redis.zrem(this.key, this.id).catch(() => {}),
      sleep(STOP_WAIT_MS, undefined, { ref: false }),
    ]);
  }
}
