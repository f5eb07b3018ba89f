import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { bounded } from "../redis/bounded.ts";
import { isCluster, type RedisClient } from "../redis/connection.ts";
import { groupByNode } from "../redis/slots.ts";
import { type Keyspace, keyspace, parsePayload, queueCatalog } from "./catalog.ts";

/** How long a dirty flag lives without a runner clearing it; an expired flag only costs an extra doorbell. */
const DIRTY_TTL_MS = 10_000;

/**
 * Rings partition doorbells with the dirty-flag protocol (docs/design.md step 2): after the
 * operations are committed, `SET dirty:p 1 PX … GET` for each partition, and add a doorbell job
 * with a fresh unique id only where the flag was not already set. Never a reused job id, never
 * BullMQ deduplication: both silently drop adds. On a Redis Cluster the names carry each
 * partition's hash tag ({@link keyspace}) and the pipelined SETs are split by node.
 */
export class Doorbells {
  private readonly queues = new Map<number, Queue>();
  private readonly redis: RedisClient;
  readonly keys: Keyspace;
  readonly partitions: number;

  constructor(redis: RedisClient, prefix: string, partitions: number) {
    this.redis = redis;
    this.keys = keyspace(prefix, isCluster(redis));
    this.partitions = partitions;
  }

  /** The BullMQ queue of a partition (created once, reused). */
  queue(partition: number): Queue {
    let q = this.queues.get(partition);
    if (!q) {
      q = new Queue(this.keys.queueName("doorbell", partition), {
        connection: this.redis,
        prefix: this.keys.prefix,
      });
      q.on("error", () => {});
      this.queues.set(partition, q);
    }
    return q;
  }

  /**
   * Rings each distinct partition once: a pipelined SET GET (one pipeline per node on a
   * cluster, each node's partitions in one round trip), then one add per partition whose flag
   * was unset. A node that does not answer fails only its own partitions' rings (the sweeper
   * rings them later); the first such error is thrown once the others are done.
   */
  async ring(partitions: Iterable<number>): Promise<void> {
    const distinct = [...new Set(partitions)];
    const groups = groupByNode(this.redis, distinct, (p) => this.keys.dirtyKey(p));
    const rung = await Promise.allSettled(groups.map((group) => this.ringGroup(group)));
    const failed = rung.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async ringGroup(partitions: number[]): Promise<void> {
    const pipe = this.redis.pipeline();
    for (const p of partitions) pipe.set(this.keys.dirtyKey(p), "1", "PX", DIRTY_TTL_MS, "GET");
    const replies = (await pipe.exec()) ?? [];
    const unset = partitions.filter((_, i) => {
      const [err, previous] = replies[i] ?? [new Error("no reply"), null];
      return err !== null || previous === null;
    });
    await Promise.all(
      unset.map((p) =>
        this.addJob(p).catch(async (err: unknown) => {
          // The flag is set but no job stands behind it: clear it so the next ring adds one.
          await this.redis.del(this.keys.dirtyKey(p)).catch(() => {});
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

  /**
   * One runner per partition, whatever the number of worker processes. A Redis flush erases it:
   * re-assert. Each queue on its own, each bounded by `timeoutMs`: a node that does not answer
   * fails only its own queues. Returns the partitions whose queue could not be set.
   */
  async assertGlobalConcurrency(timeoutMs: number): Promise<number[]> {
    const set = await Promise.allSettled(
      Array.from({ length: this.partitions }, (_, p) =>
        bounded(this.queue(p).setGlobalConcurrency(1), timeoutMs, "setting a queue's global concurrency"),
      ),
    );
    return set.flatMap((r, p) => (r.status === "rejected" ? [p] : []));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
