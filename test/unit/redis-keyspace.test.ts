import calculateSlot from "cluster-key-slot";
import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { keyspace } from "../../shared/queues/catalog.ts";
import { groupByNode } from "../../shared/redis/slots.ts";

/** The keys BullMQ makes for queue `name` under `prefix` (a sample: its scripts touch these together). */
const bullKeys = (prefix: string, name: string) =>
  ["wait", "active", "meta", "events", "marker", "id"].map((t) => `${prefix}:${name}:${t}`);

describe("keyspace", () => {
  it("one Redis server: the names every release used (an upgrade strands no doorbell)", () => {
    const keys = keyspace("billing", false);
    expect(keys.queueName("doorbell", 3)).toBe("doorbell-3");
    expect(keys.dirtyKey(3)).toBe("billing:dirty:3");
  });

  it("a cluster: each partition's queue keys and dirty flag share one slot", () => {
    const keys = keyspace("billing", true);
    expect(keys.queueName("doorbell", 3)).toBe("{doorbell-3}");
    expect(keys.dirtyKey(3)).toBe("billing:dirty:{doorbell-3}");
    for (let p = 0; p < 16; p++) {
      const slots = new Set(
        [...bullKeys("billing", keys.queueName("doorbell", p)), keys.dirtyKey(p)].map(calculateSlot),
      );
      expect(slots.size).toBe(1);
    }
  });

  it("a cluster: the partitions' slots spread over a three-master cluster's default ranges", () => {
    const keys = keyspace("billing", true);
    const master = (slot: number) => (slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
    const perMaster = [0, 1, 2].map(
      (m) =>
        Array.from({ length: 16 }, (_, p) => p).filter((p) => master(calculateSlot(keys.dirtyKey(p))) === m)
          .length,
    );
    // Measured: 4, 7 and 5 of the 16 partitions.
    expect(perMaster.every((n) => n > 0)).toBe(true);
  });
});

describe("groupByNode", () => {
  const server = new Redis({ lazyConnect: true });
  const cluster = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
  afterAll(() => {
    server.disconnect();
    cluster.disconnect();
  });
  const keys = keyspace("billing", true);
  const partitions = Array.from({ length: 16 }, (_, p) => p);

  it("one Redis server: everything is one group, in order", () => {
    expect(groupByNode(server, partitions, (p) => keys.dirtyKey(p))).toEqual([partitions]);
    expect(groupByNode(server, [], (p: number) => keys.dirtyKey(p))).toEqual([]);
  });

  it("a cluster: one group per node of the slot map, each in order; unknown slots alone", () => {
    // A slot map as ioredis holds it: slot -> [master, replicas…].
    for (let slot = 0; slot < 16384; slot++) {
      cluster.slots[slot] = [slot <= 5460 ? "a:1" : slot <= 10922 ? "b:1" : "c:1", "replica:1"];
    }
    const groups = groupByNode(cluster, partitions, (p) => keys.dirtyKey(p));
    expect(groups).toHaveLength(3);
    expect(groups.flat().sort((x, y) => x - y)).toEqual(partitions);
    for (const g of groups) {
      expect(g).toEqual([...g].sort((x, y) => x - y));
      const nodes = new Set(g.map((p) => cluster.slots[calculateSlot(keys.dirtyKey(p))]?.[0]));
      expect(nodes.size).toBe(1);
    }
    cluster.slots.length = 0;
    expect(groupByNode(cluster, [0, 1], (p) => keys.dirtyKey(p))).toEqual([[0], [1]]);
  });
});
