import { apiConfigSchema, loadConfig } from "../shared/config.ts";
import { openDb } from "../shared/db/client.ts";
import { assertPartitions } from "../shared/db/settings-repo.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createLogger } from "../shared/logger.ts";
import { Doorbells } from "../shared/queues/doorbells.ts";
import { openRedis } from "../shared/redis/connection.ts";
import { createApp } from "./app.ts";
import { CompletionWaiters } from "./completion-waiters.ts";

const config = loadConfig(apiConfigSchema, "api");
const log = createLogger("api", config.LOG_LEVEL);

const { db, close: closeDb } = openDb({
  url: config.DATABASE_URL,
  poolSize: config.DB_POOL_SIZE,
  applicationName: "billing-api",
  sessionSettings: { statement_timeout: "10s" },
});
try {
  await assertPartitions(db, config.PARTITIONS);
} catch (err) {
  log.fatal(errorSummary(err).message);
  process.exit(1);
}

const redis = openRedis(config.REDIS_URL, "fast");
const subscriber = openRedis(config.REDIS_URL, "blocking");
const doorbells = new Doorbells(redis, config.QUEUE_PREFIX, config.PARTITIONS);
const waiters = new CompletionWaiters(subscriber, config.QUEUE_PREFIX, log);

/** A doorbell that does not answer within a second is left to the sweeper; the 202 does not wait longer. */
const RING_TIMEOUT_MS = 1_000;
const ring = (partition: number) =>
  Promise.race([
    doorbells.ring([partition]),
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
  ring,
});
const server = app.listen(config.PORT, () => {
  log.info({ port: config.PORT, partitions: config.PARTITIONS, pid: process.pid }, "api listening");
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "api stopping");
  const timer = setTimeout(() => process.exit(1), 15_000).unref();
  server.close();
  waiters.close();
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.once("close", () => resolve()));
  await doorbells.close();
  await Promise.all([redis.quit().catch(() => {}), subscriber.quit().catch(() => {})]);
  await closeDb();
  clearTimeout(timer);
  log.info("api stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
