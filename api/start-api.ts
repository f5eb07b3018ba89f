import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Express } from "express";
import type { Logger } from "pino";
import type { ApiConfig } from "../shared/config.ts";
import { openDb, WRITE_PATH_SETTINGS } from "../shared/db/client.ts";
import { countPendingByPartition } from "../shared/db/operation-repo.ts";
import type { Operation } from "../shared/db/schema/index.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { createApiMetrics } from "../shared/metrics/api-metrics.ts";
import { createMetricsRegistry } from "../shared/metrics/registry.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { bounded } from "../shared/redis/bounded.ts";
import { openRedis, redisTarget } from "../shared/redis/connection.ts";
import { type HostResolver, systemResolver } from "../shared/webhooks/address-guard.ts";
import { createApp } from "./app.ts";
import { answerClientError } from "./client-error.ts";
import { childMetrics } from "./cluster-metrics.ts";
import { CompletionWaiters } from "./completion-waiters.ts";
import { createOpenApiDocument } from "./openapi/openapi-document.ts";
import { ACCEPT_GROUPS_IN_FLIGHT } from "./services/accept-batcher.ts";
import { Backpressure } from "./services/backpressure.ts";
import { checkReadiness } from "./services/readiness.ts";

export interface RunningApi {
  port: number;
  /** The Express application (tests list its routes). */
  app: Express;
  /**
   * Stops accepting connections, answers long-poll waiters at once, lets in-flight requests
   * finish (at most {@link DRAIN_MS}, then their connections are cut), closes the pools.
   */
  stop(): Promise<void>;
}

/** A doorbell that does not answer within a second is left to the sweeper; the 202 does not wait longer. */
const RING_TIMEOUT_MS = 1_000;
/** `/readyz`: each dependency must answer within this, ms. */
const READY_TIMEOUT_MS = 1_000;
/** Shutdown: in-flight requests get this long to finish, ms (api/run-api.ts exits after 15 s regardless). */
const DRAIN_MS = 10_000;

export async function startApi(
  config: ApiConfig,
  log: Logger,
  seams: {
    afterInsert?: (operation: Operation) => Promise<void>;
    /** Replaces the doorbell: a test holds doorbells back and rings them itself. */
    ring?: (partitions: number[]) => Promise<void>;
    /** Replaces DNS for webhook endpoint URLs: a test resolves names its own way. */
    resolveHost?: HostResolver;
    /** How often a long poll re-reads Postgres without a wake-up, ms (default 1 s). */
    longPollRereadMs?: number;
  } = {},
  role: {
    /**
     * One of several api processes under api/run-api.ts's primary (API_PROCESSES): `/metrics`
     * answers with the whole instance's, which the primary aggregates (cluster-metrics.ts).
     */
    inCluster?: boolean;
  } = {},
): Promise<RunningApi> {
  const { db, close: closeDb } = openDb({
    url: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    applicationName: "billing-api",
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  // The accept inserts have a pool of their own, one connection per group in flight, whose
  // statements are planned once per connection (WRITE_PATH_SETTINGS): a quiet minute's groups
  // of one or two rows would otherwise be planned anew at each insert.
  const accepts = openDb({
    url: config.DATABASE_URL,
    poolSize: ACCEPT_GROUPS_IN_FLIGHT,
    applicationName: "billing-api-accept",
    sessionSettings: WRITE_PATH_SETTINGS,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
  });
  // Readiness probes and the backlog sampler have a pool of their own: a request pool saturated
  // by load must neither stall the sampler (which is what detects the load) nor fail readiness.
  const ops = openDb({
    url: config.DATABASE_URL,
    poolSize: 2,
    applicationName: "billing-api-ops",
    statementTimeoutMs: 1_000,
  });
  try {
    await assertPartitions(db, config.PARTITIONS);
  } catch (err) {
    await Promise.all([closeDb(), accepts.close(), ops.close()]);
    throw err;
  }

  const target = redisTarget(config);
  const redis = openRedis(target, "fast");
  const subscriber = openRedis(target, "blocking");
  // The rate limiter's own connection: one command per request, auto-pipelined.
  const limiterRedis = openRedis(target, "fast", true);
  // Give Redis a moment to connect before serving (a cluster client also loads the slot map);
  // if it is away, serve anyway (the sweeper rings, the rate limiter stands aside).
  await Promise.race([
    Promise.all(
      [redis, subscriber, limiterRedis].map((r) => (r.status === "ready" ? undefined : once(r, "ready"))),
    ),
    sleep(5_000, undefined, { ref: false }),
  ]);
  const doorbells = new Doorbells(redis, config.QUEUE_PREFIX, config.PARTITIONS);
  const waiters = new CompletionWaiters(subscriber, config.QUEUE_PREFIX, log, seams.longPollRereadMs);
  const ringNow = (partitions: number[]) => bounded(doorbells.ring(partitions), RING_TIMEOUT_MS, "doorbell");

  const metrics = createApiMetrics(createMetricsRegistry(), config.PARTITIONS);
  const metricsText = role.inCluster ? childMetrics(metrics.registry) : () => metrics.registry.metrics();
  const backpressure = new Backpressure(
    {
      maxPending: config.BACKPRESSURE_MAX_PENDING,
      maxInFlight: config.BACKPRESSURE_MAX_IN_FLIGHT,
      maxEventLoopDelayMs: config.BACKPRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    },
    {
      sampleBacklog: (cap) => countPendingByPartition(ops.db, config.PARTITIONS, cap),
      onBacklog: (perPartition) => metrics.setBacklog(perPartition),
    },
    log,
  );
  let draining = false;
  const readiness = () =>
    checkReadiness({
      pingPostgres: () => ops.pool.query("SELECT 1"),
      pingRedis: () => redis.ping(),
      timeoutMs: READY_TIMEOUT_MS,
    });
  metrics.track({
    inFlightAccepts: () => backpressure.inFlightCount(),
    longPolls: () => waiters.size(),
    // What /readyz answers, at each scrape: alerting cannot probe /readyz itself.
    ready: async () => !draining && Object.values(await readiness()).every((state) => state === "ok"),
  });
  await backpressure.start();

  let openApiJson: string | undefined;
  const app = createApp({
    db,
    acceptPool: accepts.pool,
    log,
    adminToken: config.ADMIN_TOKEN,
    authFailuresPerAddress: config.AUTH_FAILURES_PER_ADDRESS,
    partitions: config.PARTITIONS,
    waiters,
    ring: seams.ring ?? ringNow,
    metrics,
    backpressure,
    rateLimit: {
      redis: limiterRedis,
      prefix: config.QUEUE_PREFIX,
      requests: config.RATE_LIMIT_REQUESTS,
      windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
    },
    ops: {
      metricsText,
      draining: () => draining,
      readiness,
      openApiJson: () => {
        openApiJson ??= JSON.stringify(createOpenApiDocument());
        return openApiJson;
      },
    },
    webhookAddressPolicy: {
      allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      resolve: seams.resolveHost ?? systemResolver,
    },
    ...(seams.afterInsert ? { afterInsert: seams.afterInsert } : {}),
  });
  const server = app.listen(config.PORT);
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, partitions: config.PARTITIONS }, "api listening");

  return {
    port,
    app,
    async stop() {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      waiters.close();
      // A keep-alive connection whose request finishes after close() would stay open until its
      // keep-alive timeout: close connections as they become idle.
      const sweepIdle = setInterval(() => server.closeIdleConnections(), 100);
      server.closeIdleConnections();
      const cut = setTimeout(() => {
        log.warn("requests still in flight after the drain period; closing their connections");
        server.closeAllConnections();
      }, DRAIN_MS);
      await closed;
      clearTimeout(cut);
      clearInterval(sweepIdle);
      backpressure.stop();
      await doorbells.close();
      await Promise.all([redis, subscriber, limiterRedis].map((r) => r.quit().catch(() => {})));
      await Promise.all([closeDb(), accepts.close(), ops.close()]);
    },
  };
}
