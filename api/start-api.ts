import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { ApiConfig } from "../shared/config.ts";
import { openDb } from "../shared/db/client.ts";
import type { Operation } from "../shared/db/schema/index.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { openRedis } from "../shared/redis/connection.ts";
import { createApp } from "./app.ts";
import { CompletionWaiters } from "./completion-waiters.ts";

export interface RunningApi {
  port: number;
  /** Stops accepting, answers long-poll waiters, finishes in-flight requests, closes the pools. */
  stop(): Promise<void>;
}

/** A doorbell that does not answer within a second is left to the sweeper; the 202 does not wait longer. */
const RING_TIMEOUT_MS = 1_000;

export async function startApi(
  config: ApiConfig,
  log: Logger,
  seams: {
    afterInsert?: (operation: Operation) => Promise<void>;
    /** Replaces the doorbell: a test holds doorbells back and rings them itself. */
    ring?: (partitions: number[]) => Promise<void>;
  } = {},
): Promise<RunningApi> {
  const { db, close: closeDb } = openDb({
    url: config.DATABASE_URL,
    poolSize: config.DB_POOL_SIZE,
    applicationName: "billing-api",
    sessionSettings: { statement_timeout: "10s" },
  });
  try {
    await assertPartitions(db, config.PARTITIONS);
  } catch (err) {
    await closeDb();
    throw err;
  }

  const redis = openRedis(config.REDIS_URL, "fast");
  // Give Redis a moment to connect before serving; if it is away, serve anyway (the sweeper rings).
  await Promise.race([once(redis, "ready"), sleep(5_000, undefined, { ref: false })]);
  const subscriber = openRedis(config.REDIS_URL, "blocking");
  const doorbells = new Doorbells(redis, config.QUEUE_PREFIX, config.PARTITIONS);
  const waiters = new CompletionWaiters(subscriber, config.QUEUE_PREFIX, log);
  const ringNow = (partitions: number[]) =>
    Promise.race([
      doorbells.ring(partitions),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("doorbell timed out")), RING_TIMEOUT_MS).unref(),
      ),
    ]);

  const app = createApp({
    db,
    log,
    adminToken: config.ADMIN_TOKEN,
    partitions: config.PARTITIONS,
    waiters,
    ring: seams.ring ?? ringNow,
    ...(seams.afterInsert ? { afterInsert: seams.afterInsert } : {}),
  });
  const server = app.listen(config.PORT);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, partitions: config.PARTITIONS, pid: process.pid }, "api listening");

  return {
    port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      waiters.close();
      server.closeIdleConnections();
      await closed;
      await doorbells.close();
      await Promise.all([redis.quit().catch(() => {}), subscriber.quit().catch(() => {})]);
      await closeDb();
    },
  };
}
