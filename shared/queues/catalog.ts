import type { JobsOptions, WorkerOptions } from "bullmq";
import { z } from "zod";

/**
 * Every queue family, its payload schema and its options. One queue per partition:
 * `<family>-<partition>` under the deployment's QUEUE_PREFIX.
 */
export const queueCatalog = {
  /**
   * A doorbell says "partition p has pending operations"; the work and its order live in
   * Postgres (ARCHITECTURE.md, step 2). Global concurrency 1 per queue: one runner per partition.
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

/** The BullMQ queue name of `family` for `partition`. */
export function queueName(family: QueueFamily, partition: number): string {
  if (!(family in queueCatalog)) throw new Error(`unknown queue family: ${String(family)}`);
  return `${family}-${partition}`;
}

/** Parses a payload against its family's schema; throws on mismatch (at enqueue and in the processor). */
export function parsePayload<F extends QueueFamily>(family: F, data: unknown): Payload<F> {
  const entry = queueCatalog[family];
  if (!entry) throw new Error(`unknown queue family: ${String(family)}`);
  return entry.payload.parse(data) as Payload<F>;
}

/** Redis key of a partition's dirty flag (ARCHITECTURE.md step 2). */
export const dirtyKey = (prefix: string, partition: number): string => `${prefix}:dirty:${partition}`;

/** Pub/sub channel on which runners announce completed operations. */
export const completionsChannel = (prefix: string): string => `${prefix}:completions`;

export const completionMessage = z.object({ ids: z.array(z.string()) });
