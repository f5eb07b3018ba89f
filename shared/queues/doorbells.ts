import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { dirtyKey, parsePayload, queueCatalog, queueName } from "./catalog.ts";

/** How long a dirty flag lives without a runner clearing it; an expired flag only costs an extra doorbell. */
const DIRTY_TTL_MS = 10_000;

/**
 * Rings partition doorbells with the dirty-flag protocol (ARCHITECTURE.md step 2): after the
 * operations are committed, `SET dirty:p 1 PX … GET` for each partition, and add a doorbell job
 * with a fresh unique id only where the flag was not already set. Never a reused job id, never
 * BullMQ deduplication: both silently drop adds.
 */
export class Doorbells {
  private readonly queues = new Map<number, Queue>();
  private readonly redis: Redis;
  private readonly prefix: string;
  readonly partitions: number;

  constructor(redis: Redis, prefix: string, partitions: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.partitions = partitions;
  }

  /** The BullMQ queue of a partition (created once, reused). */
  queue(partition: number): Queue {
    let q = this.queues.get(partition);
    if (!q) {
      q = new Queue(queueName("doorbell", partition), { connection: this.redis, prefix: this.prefix });
      q.on("error", () => {});
      this.queues.set(partition, q);
    }
    return q;
  }

  /** Rings each distinct partition once; a pipelined SET GET, then one add per partition whose flag was unset. */
  async ring(partitions: Iterable<number>): Promise<void> {
    const distinct = [...new Set(partitions)];
    if (distinct.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const p of distinct) pipe.set(dirtyKey(this.prefix, p), "1", "PX", DIRTY_TTL_MS, "GET");
    const replies = (await pipe.exec()) ?? [];
    const unset = distinct.filter((_, i) => {
      const [err, previous] = replies[i] ?? [new Error("no reply"), null];
      return err !== null || previous === null;
    });
    await Promise.all(
      unset.map((p) =>
        this.addJob(p).catch(async (err: unknown) => {
          // The flag is set but no job stands behind it: clear it so the next ring adds one.
          await this.redis.del(dirtyKey(this.prefix, p)).catch(() => {});
          throw err;
        }),
      ),
    );
  }

  /** Adds a doorbell job unconditionally (a runner handing its partition over, the sweeper). */
  async addJob(partition: number): Promise<void> {
    const payload = parsePayload("doorbell", { partition });
    await this.queue(partition).add("doorbell", payload, {
      ...queueCatalog.doorbell.jobOptions,
      jobId: randomUUID(),
    });
  }

  /** One runner per partition, whatever the number of worker processes. A Redis flush erases it: re-assert. */
  async assertGlobalConcurrency(): Promise<void> {
    await Promise.all(
      Array.from({ length: this.partitions }, (_, p) => this.queue(p).setGlobalConcurrency(1)),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
