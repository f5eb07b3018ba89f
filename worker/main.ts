import { Worker } from "bullmq";
import { loadConfig, workerConfigSchema } from "../shared/config.ts";
import { openDb } from "../shared/db/client.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createLogger } from "../shared/logger.ts";
import {
  completionsChannel,
  dirtyKey,
  parsePayload,
  queueCatalog,
  queueName,
} from "../shared/queues/catalog.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { openRedis } from "../shared/redis/connection.ts";
import { runPartition } from "./partition-runner.ts";

const config = loadConfig(workerConfigSchema, "worker");
const log = createLogger("worker", config.LOG_LEVEL);

const { db, close: closeDb } = openDb({
  url: config.DATABASE_URL,
  poolSize: config.DB_POOL_SIZE,
  applicationName: "billing-worker",
  sessionSettings: {
    // A batch waits at most 5 s for a row lock before it is retried (55P03 is transient).
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
  log.fatal(errorSummary(err).message);
  process.exit(1);
}

const redis = openRedis(config.REDIS_URL, "blocking");
const doorbells = new Doorbells(redis, config.QUEUE_PREFIX, config.PARTITIONS);
await doorbells.assertGlobalConcurrency();

let stopping = false;
const deps = {
  db,
  batchCap: config.BATCH_CAP,
  log,
  stopping: () => stopping,
  clearDirty: async (p: number) => {
    await redis.del(dirtyKey(config.QUEUE_PREFIX, p));
  },
  publish: async (ids: string[]) => {
    await redis.publish(completionsChannel(config.QUEUE_PREFIX), JSON.stringify({ ids }));
  },
};

const workers = Array.from({ length: config.PARTITIONS }, (_, partition) => {
  const worker = new Worker(
    queueName("doorbell", partition),
    async (job) => {
      const { partition: p } = parsePayload("doorbell", job.data);
      const outcome = await runPartition(p, deps);
      // Stopping with work left: hand the partition to another worker with a fresh doorbell.
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
log.info({ partitions: config.PARTITIONS, batchCap: config.BATCH_CAP, pid: process.pid }, "worker started");

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "worker stopping: finishing current batches");
  const timer = setTimeout(() => {
    log.error("shutdown timed out; exiting");
    process.exit(1);
  }, 20_000);
  await Promise.all(workers.map((w) => w.close()));
  await doorbells.close();
  await redis.quit().catch(() => {});
  await closeDb();
  clearTimeout(timer);
  log.info("worker stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
