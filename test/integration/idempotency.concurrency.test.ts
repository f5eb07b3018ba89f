import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();

describe.each(REDIS_MODES)("one idempotency key under concurrency ($name)", (mode) => {
  let system: TestSystem;
  let api: Api;

  beforeAll(async () => {
    system = await startSystem({ partitions: 4, workerProcesses: 1, ...(await cluster.options(mode)) });
    api = await newClient(system);
  });
  afterAll(async () => system?.stop());

  const countOps = async (key: string) =>
    (
      await system.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM operations WHERE idempotency_key = ${key}`,
      )
    ).rows[0]?.n;

  it("50 identical concurrent requests make one operation, 49 replays, and move the money once", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);

    const replies = await Promise.all(
      Array.from({ length: 50 }, () => api.transfer(a, b, 300, "same-key-50")),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(replies.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(49);
    expect(await countOps("same-key-50")).toBe(1);

    await waitAllSettled(system);
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 700, version: 2 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 300, version: 1 });
    const replay = await api.transfer(a, b, 300, "same-key-50");
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: replies[0]?.body.id, status: "succeeded" });
  });

  it("the same key with two different bodies at once: one 202, one 422, one operation", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);

    for (let round = 0; round < 10; round++) {
      const key = `race-${round}`;
      const replies = await Promise.all([api.transfer(a, b, 1, key), api.transfer(a, b, 2, key)]);
      expect(replies.map((r) => r.status).sort()).toEqual([202, 422]);
      const rejected = replies.find((r) => r.status === 422);
      expect(rejected?.body.code).toBe("idempotency_key_reused");
      expect(await countOps(key)).toBe(1);
    }
    await waitAllSettled(system);
    const moved = await system.db.execute<{ total: string }>(
      sql`SELECT coalesce(sum(amount), 0)::text AS total FROM entries WHERE wallet_id = ${b}`,
    );
    const expected = await system.db.execute<{ total: string }>(
      sql`SELECT sum(amount)::text AS total FROM operations WHERE idempotency_key LIKE 'race-%'`,
    );
    expect(moved.rows[0]?.total).toBe(expected.rows[0]?.total);
  });
});
