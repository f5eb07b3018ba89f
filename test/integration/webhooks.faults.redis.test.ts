import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { startRedis, type ThrowawayRedis } from "../helpers/throwaway.ts";
import {
  createEndpoint,
  payloadOf,
  type Receiver,
  startReceiver,
  storedDeliveries,
  waitForDeliveries,
} from "../helpers/webhooks.ts";

/** Deliveries live in Postgres: a Redis that loses everything loses none of them. */

let redis: ThrowawayRedis;
let system: TestSystem;
let rx: Receiver;

beforeAll(async () => {
  redis = await startRedis();
  rx = await startReceiver();
  system = await startSystem({
    partitions: 2,
    workerProcesses: 2,
    redisUrl: redis.url,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_POLL_INTERVAL_MS: "100",
      // Enough retries, a second apart, to outlast the outage below.
      WEBHOOK_RETRY_SCHEDULE: "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
      SWEEP_INTERVAL_MS: "500",
      SWEEP_GRACE_MS: "1000",
    },
  });
});
afterAll(async () => {
  await system?.stop();
  await redis?.stop();
  await rx?.close();
});

describe("Redis FLUSHALL with deliveries pending", () => {
  it("the pending deliveries, and those of operations accepted after the flush, all arrive", async () => {
    const api = await newClient(system);
    const endpoint = await createEndpoint(api, rx.url);
    rx.secret = endpoint.secret;
    // The receiver is failing: deliveries stay pending, retried every second.
    let up = false;
    rx.react = () => (up ? 200 : 503);

    const a = await newWallet(api);
    const b = await newWallet(api);
    const before = [];
    before.push(await api.settle((await api.topUp(a, 1_000)).body.id));
    for (let i = 0; i < 4; i++) before.push(await api.settle((await api.transfer(a, b, 100)).body.id));
    await waitForDeliveries(system, endpoint.id, (d) => d.length === 5 && d.every((x) => x.attempts >= 1));
    expect((await storedDeliveries(system, endpoint.id)).every((d) => d.status === "pending")).toBe(true);

    await system.redis.flushall();

    // Operations accepted after the flush settle too (the sweeper rings their partitions).
    const after = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.transfer(a, b, 50);
      expect(r.status).toBe(202);
      after.push(r.body.id as string);
    }
    await waitAllSettled(system);
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 450, version: 8 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 550, version: 7 });

    up = true;
    const rows = await waitForDeliveries(
      system,
      endpoint.id,
      (d) => d.length === 8 && d.every((x) => x.status === "succeeded"),
      60_000,
    );
    expect(new Set(rows.map((d) => d.operation_id))).toEqual(new Set([...before.map((o) => o.id), ...after]));
    // Every delivery reached the receiver with a verifiable signature, and got a 200 in the end.
    const delivered = new Set(rx.received.map((r) => payloadOf(r).data.id));
    expect(delivered).toEqual(new Set(rows.map((d) => d.operation_id)));
    expect(rx.received.every((r) => r.verified.ok)).toBe(true);
    expect(system.crashes()).toEqual([]);
  });
});
