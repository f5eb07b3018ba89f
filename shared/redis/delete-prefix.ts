import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "./connection.ts";

/**
 * Deletes every key under `<prefix>:` (a deployment's queues, flags, limits), a SCAN page at a
 * time. On a cluster, SCAN walks one node: each master is scanned, and its keys are deleted one
 * command each (a DEL of keys in several slots is refused with CROSSSLOT, even on one node).
 */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  if (!isCluster(redis)) return deleteOnNode(redis, prefix, false);
  await Promise.all(redis.nodes("master").map((node) => deleteOnNode(node, prefix, true)));
}

async function deleteOnNode(redis: Redis, prefix: string, keyByKey: boolean): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length === 0) continue;
    if (!keyByKey) {
      await redis.del(...keys);
      continue;
    }
    const pipe = redis.pipeline();
    for (const key of keys) pipe.del(key);
    await pipe.exec();
  } while (cursor !== "0");
}
