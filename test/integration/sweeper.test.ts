import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyspace } from "../../shared/queues/catalog.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();

describe.each(REDIS_MODES)("sweeper ($name)", (mode) => {
  let system: TestSystem;
  let api: Api;
  let rings = 0;

  beforeAll(async () => {
    system = await startSystem({
      partitions: 4,
      workerProcesses: 1,
      ...(await cluster.options(mode)),
      workerSettings: { SWEEP_INTERVAL_MS: "200", SWEEP_GRACE_MS: "500" },
      // The api "dies" after each insert, before its doorbell: nothing is ever rung by the api.
      ring: async () => {
        rings++;
      },
    });
    api = await newClient(system);
  });
  afterAll(async () => system?.stop());

  describe("sweeper", () => {
    it("rings partitions whose operations wait past the grace period, so lost doorbells cost only a delay", async () => {
      const a = await newWallet(api);
      const b = await newWallet(api);
      const topUp = await api.topUp(a, 500);
      const transfer = await api.transfer(a, b, 200);
      expect([topUp.status, transfer.status]).toEqual([202, 202]);
      expect(rings).toBe(2);
      expect((await api.settle(transfer.body.id)).status).toBe("succeeded");
      expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 200, version: 1 });
    });

    it("re-asserts global concurrency 1 on every partition queue after it is erased", async () => {
      const key = `${system.prefix}:${keyspace(system.prefix, mode.cluster).queueName("doorbell", 0)}:meta`;
      await system.redis.hdel(key, "concurrency");
      await expect.poll(() => system.redis.hget(key, "concurrency"), { timeout: 5_000 }).toBe("1");
      const pending = await system.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM operations WHERE status = 'pending'`,
      );
      expect(pending.rows[0]?.n).toBe(0);
    });
  });
});
