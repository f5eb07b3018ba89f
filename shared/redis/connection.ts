import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { ClusterSeeds } from "../config.ts";

/** A connection to one Redis server or to a Redis Cluster; both speak the commands this code uses. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server (`REDIS_URL`) or the seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type RedisTarget = { url: string } | { cluster: ClusterSeeds };

/** The target a parsed api or worker config names (the schema allows exactly one of the two). */
export function redisTarget(config: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: ClusterSeeds | undefined;
}): RedisTarget {
  if (config.REDIS_CLUSTER_NODES) return { cluster: config.REDIS_CLUSTER_NODES };
  if (config.REDIS_URL) return { url: config.REDIS_URL };
  throw new Error("neither REDIS_URL nor REDIS_CLUSTER_NODES is set");
}

/** True for a Redis Cluster connection: its keys must keep each multi-key command in one slot. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/** Reconnect delays, ms: 100, 200, … up to 2 s, for a server and for a cluster alike. */
const retryStrategy = (times: number): number => Math.min(times * 100, 2_000);

/**
 * A Redis connection, to one server or to a cluster (ioredis `Cluster`: it learns the slot map
 * from the seeds, sends each command to the master of its key's slot, follows MOVED/ASK and
 * refreshes the map after a failover). `role` picks the failure behaviour:
 * - "blocking": BullMQ workers and subscribers; commands wait across reconnects (BullMQ requires
 *   `maxRetriesPerRequest: null`).
 * - "fast": the api's request path; a command fails within a second when Redis is away, because
 *   the operation is already durable in Postgres and the sweeper rings doorbells later.
 * `autoPipelining` sends the commands issued in one event-loop turn in one write (one command per
 * request, like the rate limiter's, at thousands of requests a second); on a cluster, one write
 * per node.
 */
export function openRedis(
  target: RedisTarget,
  role: "blocking" | "fast",
  autoPipelining = false,
): RedisClient {
  const opts: RedisOptions =
    role === "blocking"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1_000 };
  if ("url" in target) {
    const redis = new Redis(target.url, {
      ...opts,
      enableAutoPipelining: autoPipelining,
      retryStrategy,
      lazyConnect: false,
    });
    // Connection errors are retried by ioredis; without a listener they would crash the process.
    redis.on("error", () => {});
    return redis;
  }
  const { nodes, tls, username, password } = target.cluster;
  const cluster = new Cluster(nodes, {
    redisOptions: {
      ...opts,
      ...(tls ? { tls: {} } : {}),
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
    },
    // The cluster's own queue for commands sent while no slot map is known: kept by the
    // "blocking" role as a server connection keeps its offline queue, refused by the "fast" one.
    enableOfflineQueue: role === "blocking",
    enableAutoPipelining: autoPipelining,
    clusterRetryStrategy: retryStrategy,
    // A failover answers CLUSTERDOWN or MOVED for a few seconds: retry on that rhythm, ms.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
  });
  cluster.on("error", () => {});
  return cluster;
}
