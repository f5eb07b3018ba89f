import calculateSlot from "cluster-key-slot";
import { isCluster, type RedisClient } from "./connection.ts";

/**
 * Splits `items` into groups whose keys one node serves, in their order, so that each group
 * can be one pipeline: ioredis refuses a cluster pipeline whose keys lie on several nodes. The
 * node of a key is the one of its slot in the client's current slot map (ioredis compares the
 * same thing); a slot the map does not know yet is a group of its own. On a single Redis
 * everything is one group.
 */
export function groupByNode<T>(redis: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!isCluster(redis)) return items.length > 0 ? [[...items]] : [];
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const slot = calculateSlot(keyOf(item));
    const node = redis.slots[slot]?.join(";") ?? `slot ${slot}`;
    const group = groups.get(node);
    if (group) group.push(item);
    else groups.set(node, [item]);
  }
  return [...groups.values()];
}
