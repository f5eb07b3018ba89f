import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { operationsWithKey } from "../helpers/money.ts";
import { withAdminPg } from "../helpers/services.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { startRedis, type ThrowawayRedis } from "../helpers/throwaway.ts";

let redis: ThrowawayRedis;
let system: TestSystem;
let api: Api;

async function readyz() {
  const r = await fetch(`${system.baseUrl}/readyz`);
  return { status: r.status, headers: r.headers, body: await r.json() };
}

/** The api's billing_ready gauge (what alerting sees of /readyz). */
const readyGauge = async () => sampleValue(await scrape(`${system.baseUrl}/metrics`), "billing_ready");

/** /readyz answers 503 `overloaded` naming what is down, with the standard problem fields; so does billing_ready. */
async function expectNotReady(checks: { postgres: string; redis: string }, names: string) {
  expect(await readyGauge()).toBe(0);
  const r = await readyz();
  expect(r.status).toBe(503);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(r.headers.get("retry-after")).toBe("1");
  expect(r.body).toStrictEqual({
    type: "/problems/overloaded",
    title: "Overloaded",
    status: 503,
    detail: `Not ready: ${names} did not answer within 1 s.`,
    code: "overloaded",
    requestId: r.headers.get("x-request-id"),
    checks,
  });
}

beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem({
    partitions: 2,
    redisUrl: redis.url,
    apiSettings: { RATE_LIMIT_REQUESTS: "1000" },
  });
  api = await newClient(system);
});
afterAll(async () => {
  await system?.stop();
  await redis?.stop();
});

describe("Redis down", () => {
  it("/readyz is 503 naming redis; the rate limiter fails open; money is still accepted", async () => {
    const wallet = await newWallet(api);
    expect((await api.get("/v1/wallets")).headers.get("ratelimit")).toMatch(/^"per-client";r=\d+/);
    await redis.kill();

    await expectNotReady({ postgres: "ok", redis: "down" }, "redis");
    const read = await api.get("/v1/wallets");
    expect(read.status).toBe(200);
    expect(read.headers.get("ratelimit")).toBeNull();
    // Durable in Postgres; its doorbell is the sweeper's job once Redis is back.
    const topUp = await api.topUp(wallet, 100, "redis-down");
    expect(topUp.status).toBe(202);
    expect(await operationsWithKey(system, "redis-down")).toBe(1);

    await redis.start();
    await vi.waitFor(async () => expect((await readyz()).status).toBe(200), {
      timeout: 20_000,
      interval: 200,
    });
    expect(await readyGauge()).toBe(1);
  });
});

describe("Postgres refusing the api's connections", () => {
  const database = () => new URL(system.databaseUrl).pathname.slice(1);

  it("/readyz is 503 naming postgres, then 200 again once it answers", async () => {
    expect((await readyz()).body).toEqual({ status: "ok", checks: { postgres: "ok", redis: "ok" } });
    // New connections to the test's database are refused and the api's probe connections cut.
    await withAdminPg(async (c) => {
      await c.query(`ALTER DATABASE ${database()} ALLOW_CONNECTIONS false`);
      await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'billing-api-ops'`,
        [database()],
      );
    });
    try {
      await expectNotReady({ postgres: "down", redis: "ok" }, "postgres");
    } finally {
      await withAdminPg((c) => c.query(`ALTER DATABASE ${database()} ALLOW_CONNECTIONS true`));
    }
    await vi.waitFor(async () => expect((await readyz()).status).toBe(200), {
      timeout: 20_000,
      interval: 200,
    });
  });
});
