import { Redis, type RedisOptions } from "ioredis";

/**
 * A Redis connection. `role` picks the failure behaviour:
 * - "blocking": BullMQ workers and subscribers; commands wait across reconnects (BullMQ requires
 *   `maxRetriesPerRequest: null`).
 * - "fast": the api's request path; a command fails within a second when Redis is away, because
 *   the operation is already durable in Postgres and the sweeper rings doorbells later.
 * `autoPipelining` sends the commands issued in one event-loop turn in one write (one command per
 * request, like the rate limiter's, at thousands of requests a second).
 */
export function openRedis(url: string, role: "blocking" | "fast", autoPipelining = false): Redis {
  const opts: RedisOptions =
    role === "blocking"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1_000 };
  const redis = new Redis(url, {
    ...opts,
    enableAutoPipelining: autoPipelining,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: false,
  });
  // Connection errors are retried by ioredis; without a listener they would crash the process.
  redis.on("error", () => {});
  return redis;
}
