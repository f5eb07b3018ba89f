import { Worker } from "bullmq";
import type { Logger } from "pino";
import type { WorkerConfig } from "../shared/config.ts";
import { openDb } from "../shared/db/client.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { errorSummary } from "../shared/log-safe.ts";
import {
  completionsChannel,
  dirtyKey,
  parsePayload,
  queueCatalog,
  queueName,
} from "../shared/queues/catalog.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { openRedis } from "../shared/redis/connection.ts";
import { BatchSlots } from "./batch-slots.ts";
import { type RunnerHooks, runPartition } from "./partition-runner.ts";
import { startSweeper } from "./sweeper.ts";

export interface RunningWorker {
  /** Finishes the current batches, hands unfinished partitions over, closes every connection. */
  stop(): Promise<void>;
}

/**
 * A worker process's runtime: one BullMQ worker per partition queue (global concurrency 1 per
 * queue, so one runner per partition across all processes), each running the partition runner.
 */
export async function startWorker(
  config: WorkerConfig,
  log: Logger,
  hooks?: RunnerHooks,
): Promise<RunningWorker> {
  const {
    db,
    pool,
    close: closeDb,
  } = openDb({
    url: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    applicationName: "billing-worker",
    sessionSettings: {
      // A batch waits at most 5 s for a row lock, then is retried (55P03 is transient).
      lock_timeout: "5s",
      // No statement of a batch should take 30 s; if one does, fail it rather than hold locks.
      statement_timeout: "30s",
      // A transaction abandoned by a stuck process releases its locks after 60 s.
      idle_in_transaction_session_timeout: "60s",
    },
  });
  try {
    await assertPartitions(db, config.PARTITIONS);
  } catch (err) {
    await closeDb();
    throw err;
  }

  const redis = openRedis(config.REDIS_URL, "blocking");
  const doorbells = new Doorbells(redis, config.QUEUE_PREFIX, config.PARTITIONS);
  await doorbells.assertGlobalConcurrency();

  let stopping = false;
  const slots = new BatchSlots(config.BATCH_CONCURRENCY);
  const deps = {
    pool,
    batchCap: config.BATCH_CAP,
    log,
    stopping: () => stopping,
    withSlot: <T>(fn: () => Promise<T>) => slots.run(fn),
    funding: new Map<string, string>(),
    clearDirty: async (p: number) => {
      await redis.del(dirtyKey(config.QUEUE_PREFIX, p));
    },
    publish: async (ids: string[]) => {
      await redis.publish(completionsChannel(config.QUEUE_PREFIX), JSON.stringify({ ids }));
    },
    ...(hooks ? { hooks } : {}),
  };

  const workers = Array.from({ length: config.PARTITIONS }, (_, partition) => {
    const worker = new Worker(
      queueName("doorbell", partition),
      async (job) => {
        const { partition: p } = parsePayload("doorbell", job.data);
        const outcome = await runPartition(p, deps);
        // Stopping with work possibly left: hand the partition over with a fresh doorbell.
        if (outcome === "stopped") await doorbells.addJob(p);
        return outcome;
      },
      { connection: redis, prefix: config.QUEUE_PREFIX, ...queueCatalog.doorbell.workerOptions },
    );
    worker.on("error", (err) => log.error({ partition, err: errorSummary(err) }, "queue worker error"));
    worker.on("failed", (job, err) =>
      log.error({ partition, jobId: job?.id, err: errorSummary(err) }, "doorbell job failed"),
    );
    return worker;
  });
  const sweeper = startSweeper({
    db,
    doorbells,
    log,
    intervalMs: config.SWEEP_INTERVAL_MS,
    graceMs: config.SWEEP_GRACE_MS,
  });
  log.info(
    {
      partitions: config.PARTITIONS,
      batchCap: config.BATCH_CAP,
      batchConcurrency: config.BATCH_CONCURRENCY,
      pid: process.pid,
    },
    "worker started",
  );

  return {
    async stop() {
      stopping = true;
      sweeper.stop();
      await Promise.all(workers.map((w) => w.close()));
      await doorbells.close();
      await redis.quit().catch(() => {});
      await closeDb();
    },
  };
}
