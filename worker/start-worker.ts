import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { WorkerConfig } from "../shared/config.ts";
import { BATCH_SETTINGS, openDb } from "../shared/db/client.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createMetricsRegistry } from "../shared/metrics/registry.ts";
import { createWebhookMetrics } from "../shared/metrics/webhook-metrics.ts";
import { createWorkerMetrics } from "../shared/metrics/worker-metrics.ts";
import { completionsChannel } from "../shared/queues/catalog.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { bounded } from "../shared/redis/bounded.ts";
import { openRedis, redisTarget } from "../shared/redis/connection.ts";
import { type HostResolver, systemResolver } from "../shared/webhooks/address-guard.ts";
import { partitionCap } from "./batch-cap.ts";
import { BatchSlots } from "./batch-slots.ts";
import { startMetricsServer } from "./metrics-server.ts";
import { PartitionAssignment, WorkerRoster } from "./partition-assignment.ts";
import { PartitionConsumers } from "./partition-consumers.ts";
import { type RunnerHooks, runPartition } from "./partition-runner.ts";
import { SWEEP_REDIS_TIMEOUT_MS, startSweeper } from "./sweeper.ts";
import { startWebhookSender, type WebhookSender, type WebhookSenderHooks } from "./webhook-sender.ts";
import { WedgeWatchdog } from "./wedge-watchdog.ts";

/** Seams of the webhook sender: metrics counters, and a test's own DNS (to simulate rebinding). */
export interface WebhookSeams {
  hooks?: WebhookSenderHooks;
  resolveHost?: HostResolver;
}

/**
 * A partition of this process whose operations stay pending past the grace period, sweep after
 * sweep, while no runner of it starts here, has its queue worker replaced after this long, ms:
 * past a stalled job's recovery (6 s lock, 3 s stalled check) with room for a handover.
 */
const WEDGED_AFTER_MS = 15_000;
/** A handover's fresh doorbell gets this long, ms (the sweeper rings the partition otherwise). */
const HANDOFF_TIMEOUT_MS = 5_000;
/** The runner's own Redis commands (a flag, an announcement) get this long, ms. */
const RUNNER_REDIS_TIMEOUT_MS = 2_000;
/**
 * How long runners whose partitions had nothing wait for a runner with work to ride along
 * (batch-slots.ts): a few of the round trips a runner makes between two of its batches.
 */
const RIDER_WAIT_MS = 5;

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
      // Plans made once per connection, never a sequential scan where a probe exists (client.ts).
      // The sweeper's statements share the pool: their generic plans are the same probes
      // (docs/performance.md, "Plans made once").
      ...BATCH_SETTINGS,
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
  // Bounded and not fatal: a worker starts while a Redis node is away (its queues get the
  // setting from the sweeper once it is back; Postgres's row locks order a second runner anyway).
  const unset = await doorbells.assertGlobalConcurrency(SWEEP_REDIS_TIMEOUT_MS);
  if (unset.length > 0)
    log.warn({ partitions: unset }, "could not set global concurrency yet; the sweeper will");

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
  const slots = new BatchSlots(config.BATCH_CONCURRENCY, RIDER_WAIT_MS);
  const caps = { cap: config.BATCH_CAP, sharedCap: config.BATCH_CAP_SHARED };
  const processId = randomUUID();
  const assignment = new PartitionAssignment(config.PARTITIONS, processId);
  metrics.partitionsAssigned(() => assignment.ownedCount());
  const deps = {
    pool,
    batchCap: (partitions: number) => partitionCap(partitions, consumers.runnerCount() === 1, caps),
    busyRunners: () => consumers.runnerCount(),
    lingerTurns: config.BATCH_LINGER,
    log,
    metrics,
    stopping: () => stopping,
    handOver: (p: number) => !assignment.owns(p),
    slots,
    funding: new Map<string, string>(),
    // Bounded (a failure is safe: a flag left set costs a doorbell, the sweeper rings; a lost
    // announcement costs a waiter's re-read): an unanswered command must not hold the partition.
    clearDirty: async (p: number) => {
      await bounded(redis.del(keys.dirtyKey(p)), RUNNER_REDIS_TIMEOUT_MS, "clearing a dirty flag");
    },
    publish: async (ids: string[]) => {
      const message = JSON.stringify({ ids });
      await bounded(
        redis.publish(completionsChannel(config.QUEUE_PREFIX), message),
        RUNNER_REDIS_TIMEOUT_MS,
        "publishing completions",
      );
    },
    // Low latency for this process's own deliveries; other processes find them by polling.
    deliveriesWritten: () => sender?.nudge(),
    ...(hooks ? { hooks } : {}),
  };

  const handoffs = new Set<Promise<void>>();
  const watchdog = new WedgeWatchdog(WEDGED_AFTER_MS);
  const consumers = new PartitionConsumers({
    partitions: config.PARTITIONS,
    redis,
    keys,
    log,
    run: async (p) => {
      const outcome = await runPartition(p, deps);
      metrics.runEnded(outcome);
      return outcome;
    },
    onLeftWork: (partition) => {
      const add: Promise<void> = bounded(
        doorbells.addJob(partition),
        HANDOFF_TIMEOUT_MS,
        "ringing a handover",
      )
        .catch((err: unknown) =>
          log.warn({ partition, err: errorSummary(err) }, "could not ring a partition handed over"),
        )
        .finally(() => handoffs.delete(add));
      handoffs.add(add);
    },
    onStarted: (p) => watchdog.started(p),
  });
  // Consume only the queues of this process's partitions (partition-consumers.ts).
  const applyAssignment = (): void => {
    if (!stopping) consumers.apply((p) => assignment.owns(p));
  };
  /** The sweeper's stale partitions: replace the queue workers of ours that take no doorbell. */
  const replaceWedged = (stale: number[]): void => {
    if (stopping) return;
    const idle = (p: number) => assignment.owns(p) && consumers.idle(p);
    for (const p of watchdog.observe(stale, idle, Date.now())) {
      log.warn(
        { partition: p, afterMs: WEDGED_AFTER_MS },
        "replacing a queue worker that took no doorbell while its partition's operations waited",
      );
      metrics.queueWorkerReplaced();
      consumers.replace(p);
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
    onStale: replaceWedged,
  });
  log.info(
    {
      partitions: config.PARTITIONS,
      batchCap: config.BATCH_CAP,
      batchCapShared: config.BATCH_CAP_SHARED,
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
      await Promise.all([consumers.close(), sender?.stop()]);
      await Promise.all(handoffs);
      await doorbells.close();
      await redis.quit().catch(() => {});
      await Promise.all([closeDb(), webhooksDb?.close()]);
      await metricsServer.close();
    },
  };
}
