import type { JobsOptions, WorkerOptions } from "bullmq";
import { z } from "zod";

/**
 * Every queue family, its payload schema and its options. One queue per partition:
 * `<family>-<partition>` under the deployment's QUEUE_PREFIX (`{<family>-<partition>}` on a Redis
 * Cluster: {@link keyspace}).
 */
export const queueCatalog = {
  /**
   * A doorbell says "partition p has pending operations"; the work and its order live in
   * Postgres (docs/design.md, step 2). Global concurrency 1 per queue: one runner per partition.
   */
  doorbell: {
    payload: z.object({ partition: z.number().int().min(0) }).strict(),
    jobOptions: {
      // Errors are handled inside the runner; a BullMQ retry would only add noise.
      attempts: 1,
      // Completed doorbells carry nothing worth keeping; 100 keeps Redis memory flat.
      removeOnComplete: { count: 100 },
      // Kept a day for inspection, by age (never `removeOnFail: true` on a money queue).
      removeOnFail: { age: 86_400, count: 1_000 },
    } satisfies JobsOptions,
    workerOptions: {
      // 6 s lock, renewed every 3 s while the runner works (a batch takes well under a second):
      // short enough that a crashed runner's partition is free again within seconds.
      lockDuration: 6_000,
      // Stalled check every 3 s: a crashed runner's partition resumes within ~9 s at worst.
      stalledInterval: 3_000,
      // A doorbell may stall many times (repeated crashes); the work is in Postgres anyway.
      maxStalledCount: 1_000,
      concurrency: 1,
    } satisfies Partial<WorkerOptions>,
  },
} as const;

export type QueueFamily = keyof typeof queueCatalog;
export type Payload<F extends QueueFamily> = z.infer<(typeof queueCatalog)[F]["payload"]>;

/** Parses a payload against its family's schema; throws on mismatch (at enqueue and in the processor). */
export function parsePayload<F extends QueueFamily>(family: F, data: unknown): Payload<F> {
  const entry = queueCatalog[family];
  if (!entry) throw new Error(`unknown queue family: ${String(family)}`);
  return entry.payload.parse(data) as Payload<F>;
}

/** Where a deployment's queues and flags are in Redis (one server or a cluster). */
export interface Keyspace {
  /** QUEUE_PREFIX: BullMQ's `prefix` and the first part of every key. */
  readonly prefix: string;
  readonly cluster: boolean;
  /** The BullMQ queue name of `family` for `partition`. */
  queueName(family: QueueFamily, partition: number): string;
  /** Redis key of a partition's dirty flag (docs/design.md step 2). */
  dirtyKey(partition: number): string;
}

/**
 * The names of a deployment's queues and flags. On one Redis server they are those every
 * release used: queue `doorbell-<p>` (BullMQ keys `<prefix>:doorbell-<p>:…`) and flag
 * `<prefix>:dirty:<p>`, so an upgrade finds its doorbells where it left them. On a Redis Cluster,
 * BullMQ's scripts touch several keys of a queue at once, which must then share a slot: each
 * partition queue's name is its own hash tag, `{doorbell-<p>}` (keys `<prefix>:{doorbell-<p>}:…`),
 * so the partitions spread over the masters (one tag for all would put every queue on one node),
 * and the flag `<prefix>:dirty:{doorbell-<p>}` lives in its partition's slot, beside its queue.
 * Moving to a cluster is moving to a new Redis: the sweeper re-rings from Postgres whatever
 * was pending.
 */
export function keyspace(prefix: string, cluster: boolean): Keyspace {
  const base = (family: QueueFamily, partition: number): string => {
    if (!(family in queueCatalog)) throw new Error(`unknown queue family: ${String(family)}`);
    return `${family}-${partition}`;
  };
  return {
    prefix,
    cluster,
    queueName: (family, partition) => (cluster ? `{${base(family, partition)}}` : base(family, partition)),
    dirtyKey: (partition) =>
      cluster ? `${prefix}:dirty:{${base("doorbell", partition)}}` : `${prefix}:dirty:${partition}`,
  };
}

/** Pub/sub channel on which runners announce completed operations. */
export const completionsChannel = (prefix: string): string => `${prefix}:completions`;

export const completionMessage = z.object({ ids: z.array(z.string()) });
