import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import type { Logger } from "pino";
import type { WorkerConfig } from "../shared/config.ts";
import { openDb } from "../shared/db/client.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createMetricsRegistry } from "../shared/metrics/registry.ts";
import { createWebhookMetrics } from "../shared/metrics/webhook-metrics.ts";
import { createWorkerMetrics } from "../shared/metrics/worker-metrics.ts";
import { completionsChannel, parsePayload, queueCatalog } from "../shared/queues/catalog.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { openRedis, redisTarget } from "../shared/redis/connection.ts";
import { type HostResolver, systemResolver } from "../shared/webhooks/address-guard.ts";
import { BatchSlots } from "./batch-slots.ts";
import { startMetricsServer } from "./metrics-server.ts";
import { PartitionAssignment, WorkerRoster } from "./partition-assignment.ts";
import { type RunnerHooks, type RunOutcome, runPartition } from "./partition-runner.ts";
import { startSweeper } from "./sweeper.ts";
import { startWebhookSender, type WebhookSender, type WebhookSenderHooks } from "./webhook-sender.ts";

/** Seams of the webhook sender: metrics counters, and a test's own DNS (to simulate rebinding). */
export interface WebhookSeams {
  hooks?: WebhookSenderHooks;
  resolveHost?: HostResolver;
}

export interface RunningWorker {
  /** Port of the worker's metrics listener (GET /metrics, GET /healthz). */
  metricsPort: number;
  /** Finishes the current batches, hands unfinished partitions over, closes every connection. */
  stop(): Promise<void>;
}

/**
 * A worker process's runtime: one BullMQ worker per partition queue (global concurrency 1 per
 * queue, so one runner per partition across all processes), each running the partition runner;
 * the partitions are dealt out over the live processes (partition-assignment.ts).
 */
export async function startWorker(
  config: WorkerConfig,
  log: Logger,
  hooks?: RunnerHooks,
  webhookSeams: WebhookSeams = {},
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
      // A transaction abandoned by a stuck process releases its locks after 60 s.
      idle_in_transaction_session_timeout: "60s",
    },
    // No statement of a batch should take 30 s (the default); if one does, fail it rather than
    // hold locks. The client gives a silent connection up shortly after (CLIENT_TIMEOUT_MARGIN_MS).
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  try {
    await assertPartitions(db, config.PARTITIONS);
  } catch (err) {
    await closeDb();
    throw err;
  }

  const registry = createMetricsRegistry();
  const metrics = createWorkerMetrics(registry);
  const webhookMetrics = createWebhookMetrics(registry);
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>>;
  try {
    metricsServer = await startMetricsServer(registry, config.METRICS_PORT);
  } catch (err) {
    await closeDb();
    throw err;
  }

  const redis = openRedis(redisTarget(config), "blocking");
  const doorbells = new Doorbells(redis, config.QUEUE_PREFIX, config.PARTITIONS);
  const { keys } = doorbells;
  await doorbells.assertGlobalConcurrency();

  // The sender's own small pool: a slow endpoint or a burst of attempts never waits for, nor
  // takes, a runner's connection. WEBHOOK_CONCURRENCY=0 runs no sender in this process.
  const webhooksDb =
    config.WEBHOOK_CONCURRENCY > 0
      ? openDb({
          url: config.DATABASE_URL,
          poolSize: config.WEBHOOK_DB_POOL_SIZE,
          applicationName: "billing-webhooks",
          sessionSettings: { lock_timeout: "5s" },
          statementTimeoutMs: 10_000,
        })
      : undefined;
  const sender: WebhookSender | undefined = webhooksDb
    ? startWebhookSender({
        db: webhooksDb.db,
        log,
        concurrency: config.WEBHOOK_CONCURRENCY,
        endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
        pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
        policy: {
          allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
          resolve: webhookSeams.resolveHost ?? systemResolver,
        },
        hooks: {
          onAttempt: (attempt) => {
            webhookMetrics.onAttempt(attempt);
            webhookSeams.hooks?.onAttempt?.(attempt);
          },
          onFinal: (delivery) => {
            webhookMetrics.onFinal(delivery);
            webhookSeams.hooks?.onFinal?.(delivery);
          },
        },
      })
    : undefined;

  let stopping = false;
  const slots = new BatchSlots(config.BATCH_CONCURRENCY);
  const processId = randomUUID();
  const assignment = new PartitionAssignment(config.PARTITIONS, processId);
  metrics.partitionsAssigned(() => assignment.ownedCount());
  const deps = {
    pool,
    batchCap: config.BATCH_CAP,
    log,
    metrics,
    stopping: () => stopping,
    handOver: (p: number) => !assignment.owns(p),
    withSlot: <T>(fn: () => Promise<T>) => slots.run(fn),
    funding: new Map<string, string>(),
    clearDirty: async (p: number) => {
      await redis.del(keys.dirtyKey(p));
    },
    publish: async (ids: string[]) => {
      await redis.publish(completionsChannel(config.QUEUE_PREFIX), JSON.stringify({ ids }));
    },
    // Low latency for this process's own deliveries; other processes find them by polling.
    deliveriesWritten: () => sender?.nudge(),
    ...(hooks ? { hooks } : {}),
  };

  const handoffs = new Set<Promise<void>>();
  const workers = Array.from({ length: config.PARTITIONS }, (_, partition) => {
    const worker = new Worker(
      keys.queueName("doorbell", partition),
      async (job) => {
        const { partition: p } = parsePayload("doorbell", job.data);
        const outcome = await runPartition(p, deps);
        if (outcome === "handed-over") metrics.handedOver();
        return outcome;
      },
      { connection: redis, prefix: config.QUEUE_PREFIX, ...queueCatalog.doorbell.workerOptions },
    );
    // Work possibly left ("stopped", "handed-over"): a fresh doorbell, added once the job has
    // completed. Added while it is still active, the job would find the queue at its global
    // concurrency, and BullMQ then wakes no waiting worker: the next owner would only see it at
    // its next poll, seconds later. (If this process dies in between, the sweeper rings.)
    worker.on("completed", (_job, outcome: RunOutcome) => {
      if (outcome === "drained") return;
      const add: Promise<void> = doorbells
        .addJob(partition)
        .catch((err: unknown) =>
          log.warn({ partition, err: errorSummary(err) }, "could not ring a partition handed over"),
        )
        .finally(() => handoffs.delete(add));
      handoffs.add(add);
    });
    worker.on("error", (err) => log.error({ partition, err: errorSummary(err) }, "queue worker error"));
    worker.on("failed", (job, err) =>
      log.error({ partition, jobId: job?.id, err: errorSummary(err) }, "doorbell job failed"),
    );
    return worker;
  });

  // Consume only the queues of this process's partitions. Pausing does not wait for a running
  // job: its runner hands the partition over after its current batch (handOver above), and a
  // paused queue worker does not fetch that queue's next job.
  const applyAssignment = (): void => {
    if (stopping) return;
    for (const [p, w] of workers.entries()) {
      if (assignment.owns(p)) void w.resume();
      else void w.pause(true);
    }
  };
  const roster = new WorkerRoster({
    redis,
    prefix: config.QUEUE_PREFIX,
    id: processId,
    onRoster: (ids) => {
      if (assignment.update(ids)) applyAssignment();
    },
    log,
  });
  await roster.start();
  applyAssignment();
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
      metricsPort: metricsServer.port,
    },
    "worker started",
  );

  return {
    metricsPort: metricsServer.port,
    async stop() {
      stopping = true;
      sweeper.stop();
      await roster.stop();
      await Promise.all([Promise.all(workers.map((w) => w.close())), sender?.stop()]);
      await Promise.all(handoffs);
      await doorbells.close();
      await redis.quit().catch(() => {});
      await Promise.all([closeDb(), webhooksDb?.close()]);
      await metricsServer.close();
    },
  };
}
