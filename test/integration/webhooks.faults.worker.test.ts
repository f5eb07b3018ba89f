import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import {
  createEndpoint,
  payloadOf,
  type Receiver,
  startReceiver,
  storedDeliveries,
  until,
  waitForDeliveries,
} from "../helpers/webhooks.ts";

/**
 * A worker SIGKILLed between the money commit and the HTTP request, or in the middle of the
 * request: the delivery lives in Postgres, so another worker sends it (at least once).
 */

let system: TestSystem;
const receivers: Receiver[] = [];

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_POLL_INTERVAL_MS: "100",
      // A killed sender's claim lasts the timeout plus the 5 s margin.
      WEBHOOK_TIMEOUT_MS: "2000",
      WEBHOOK_RETRY_SCHEDULE: "0,0",
      SWEEP_INTERVAL_MS: "500",
      SWEEP_GRACE_MS: "1000",
    },
  });
});
afterAll(async () => {
  await system?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

describe("a worker killed after the money commit", () => {
  it("before sending: the deliveries it wrote are sent by the next worker", async () => {
    const rx = await receiver();
    // This worker applies operations but runs no sender (WEBHOOK_CONCURRENCY=0): the kill comes
    // after its commits and, by construction, before any delivery was sent.
    const runnerOnly = await system.spawnWorker({ WEBHOOK_CONCURRENCY: "0" });
    const api = await newClient(system);
    const endpoint = await createEndpoint(api, rx.url);
    rx.secret = endpoint.secret;
    const w = await newWallet(api);
    const ops = [];
    for (const amount of [10, 20, 30]) ops.push(await api.settle((await api.topUp(w, amount)).body.id));
    expect(ops.map((o) => o.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 60, version: 3 });

    const written = await storedDeliveries(system, endpoint.id);
    expect(written.map((d) => [d.status, d.attempts])).toEqual([
      ["pending", 0],
      ["pending", 0],
      ["pending", 0],
    ]);
    await system.killWorker(runnerOnly);
    expect(rx.received).toEqual([]);

    const next = await system.spawnWorker();
    const rows = await waitForDeliveries(system, endpoint.id, (d) =>
      d.every((x) => x.status === "succeeded"),
    );
    expect(rows.map((d) => d.attempts)).toEqual([1, 1, 1]);
    expect(rx.received).toHaveLength(3);
    const ids = rx.received.map((r) => payloadOf(r).data.id);
    expect(ids.sort()).toEqual(ops.map((o) => o.id).sort());
    expect(system.crashes()).toEqual([]);
    await system.killWorker(next);
  });

  it("in the middle of the request: the claim's lease runs out and another worker sends it again", async () => {
    const rx = await receiver();
    rx.react = (i) => (i === 0 ? "hang" : 200);
    // The only sender running: the held request is its own.
    const victim = await system.spawnWorker();
    const api = await newClient(system);
    const endpoint = await createEndpoint(api, rx.url);
    rx.secret = endpoint.secret;
    const w = await newWallet(api);
    const op = await api.settle((await api.topUp(w, 99)).body.id);
    expect((await api.get(`/v1/wallets/${w}`)).body.balance).toBe(99);

    // The victim's attempt is in flight: the receiver holds it. Kill the sender mid-request.
    await until("the first request held", () => rx.hanging() === 1);
    const stale = await system.db.execute<{ future: boolean }>(sql`
      SELECT next_attempt_at > now() AS future FROM webhook_deliveries WHERE endpoint_id = ${endpoint.id}`);
    expect(stale.rows).toEqual([{ future: true }]);
    await system.killWorker(victim);
    await system.spawnWorker();

    const [row] = await waitForDeliveries(system, endpoint.id, (d) => d[0]?.status === "succeeded", 60_000);
    // The killed attempt left no record; the one that got through did.
    expect(row?.attempts).toBe(1);
    expect(rx.received).toHaveLength(2);
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([`msg_${row?.id}`]));
    expect(rx.received.every((r) => r.verified.ok)).toBe(true);
    expect(payloadOf(rx.received[1]).data.id).toBe(op.id);
    expect(system.crashes()).toEqual([]);
  });
});
