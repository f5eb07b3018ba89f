import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebhookSenderHooks } from "../../worker/webhook-sender.ts";
import { newClient, newWallet } from "../helpers/http.ts";
import { scrape } from "../helpers/metrics.ts";
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
 * Delivery end to end: a real runner writes deliveries in the money transaction, the sender of
 * an in-process worker POSTs them to receivers on 127.0.0.1 (hence private networks allowed),
 * and every request is verified with the reference `Webhook.verify`.
 */

let system: TestSystem;
const receivers: Receiver[] = [];
const attempts: Parameters<NonNullable<WebhookSenderHooks["onAttempt"]>>[0][] = [];
const finals: Parameters<NonNullable<WebhookSenderHooks["onFinal"]>>[0][] = [];
/** Operations whose application throws (metadata `poison`), to be set aside as internal_error. */
const poisoned = new Set<string>();

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      // Three attempts, retried at once: the tests wait for outcomes, not for backoff.
      WEBHOOK_RETRY_SCHEDULE: "0,0",
      WEBHOOK_TIMEOUT_MS: "3000",
      WEBHOOK_POLL_INTERVAL_MS: "100",
      WEBHOOK_ENDPOINT_CONCURRENCY: "2",
    },
    afterInsert: async (op) => {
      if (op.metadata.poison) poisoned.add(op.id);
    },
    inProcessWorker: {
      hooks: {
        beforeApply: (id) => {
          if (poisoned.has(id)) throw new Error("simulated bug while applying");
        },
      },
      webhooks: {
        hooks: { onAttempt: (e) => attempts.push(e), onFinal: (e) => finals.push(e) },
      },
    },
  });
});
afterAll(async () => {
  await system?.stop();
  await Promise.all(receivers.map((r) => r.close()));
});

/** The hook events about one endpoint, without the ids. */
const attemptsOf = (endpointId: string) =>
  attempts
    .filter((e) => e.endpointId === endpointId)
    .map(({ outcome, statusCode }) => ({ outcome, statusCode }));
const finalsOf = (endpointId: string) =>
  finals.filter((e) => e.endpointId === endpointId).map(({ status, reason }) => ({ status, reason }));

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** A client with an endpoint on a fresh receiver; the receiver knows the endpoint's secret. */
async function clientWithEndpoint(events?: string[]) {
  const api = await newClient(system);
  const rx = await receiver();
  const endpoint = await createEndpoint(api, rx.url, events);
  rx.secret = endpoint.secret;
  return { api, rx, endpoint };
}

const payloads = (rx: Receiver) =>
  rx.received.map((r) => {
    expect(r.verified, "Webhook.verify accepted the request").toMatchObject({ ok: true });
    return (r.verified as { payload: { type: string; timestamp: string; data: { id: string } } }).payload;
  });

describe("a delivery as the receiver sees it", () => {
  it("each outcome is POSTed once, verifies with Webhook.verify, and carries the operation as GET returns it", async () => {
    const { api, rx, endpoint } = await clientWithEndpoint();
    const a = await newWallet(api);
    const b = await newWallet(api);
    const topUp = await api.settle((await api.topUp(a, 1_000)).body.id);
    const refused = await api.settle((await api.transfer(a, b, 5_000)).body.id);
    expect([topUp.status, refused.status]).toEqual(["succeeded", "failed"]);
    expect(refused.failure.code).toBe("insufficient_funds");
    // The money: the top-up credited A, the refused transfer moved nothing.
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 1_000, version: 1 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 0, version: 0 });

    await until("two deliveries", () => rx.received.length >= 2);
    const rows = await waitForDeliveries(system, endpoint.id, (d) =>
      d.every((x) => x.status === "succeeded"),
    );
    expect(rows).toHaveLength(2);

    const byOperation = new Map(payloads(rx).map((p) => [p.data.id, p]));
    for (const op of [topUp, refused]) {
      const got = byOperation.get(op.id);
      const read = (await api.get(`/v1/operations/${op.id}`)).body;
      expect(got).toStrictEqual({
        type: `operation.${op.status}`,
        timestamp: read.completedAt,
        data: read,
      });
    }
    for (const r of rx.received) {
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
      expect(Math.abs(Number(r.headers["webhook-timestamp"]) - r.at / 1000)).toBeLessThan(60);
      expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
    // webhook-id is msg_<delivery id>.
    expect(rx.received.map((r) => r.headers["webhook-id"]).sort()).toEqual(
      rows.map((d) => `msg_${d.id}`).sort(),
    );
    expect(rows.map((d) => d.attempts)).toEqual([1, 1]);
    // The metrics hooks saw the same (they run right after each record, hence the poll).
    await expect
      .poll(() => finalsOf(endpoint.id))
      .toEqual([
        { status: "succeeded", reason: "delivered" },
        { status: "succeeded", reason: "delivered" },
      ]);
  });

  it("a tampered body or a wrong secret does not verify (the receiver's check is real)", async () => {
    const { api, rx } = await clientWithEndpoint();
    const w = await newWallet(api);
    await api.settle((await api.topUp(w, 10)).body.id);
    await until("a delivery", () => rx.received.length >= 1);
    const [first] = rx.received;
    expect(first?.verified.ok).toBe(true);
    const { Webhook } = await import("standardwebhooks");
    const headers = Object.fromEntries(
      ["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, String(first?.headers[h])]),
    );
    expect(() => new Webhook(rx.secret ?? "").verify(`${first?.body} `, headers)).toThrow();
    const other = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => new Webhook(other).verify(first?.body ?? "", headers)).toThrow();
  });
});

describe("retries", () => {
  it("500, 500, then 200: three attempts with the same webhook-id and body; succeeded with attempts 3", async () => {
    const { api, rx, endpoint } = await clientWithEndpoint();
    rx.react = (i) => (i < 2 ? 500 : 200);
    const w = await newWallet(api);
    const op = await api.settle((await api.topUp(w, 42)).body.id);
    expect((await api.get(`/v1/wallets/${w}`)).body.balance).toBe(42);

    const [row] = await waitForDeliveries(system, endpoint.id, (d) => d[0]?.status === "succeeded");
    expect(rx.received).toHaveLength(3);
    expect(new Set(rx.received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([`msg_${row?.id}`]));
    expect(new Set(rx.received.map((r) => r.body)).size).toBe(1);
    for (const p of payloads(rx)) expect(p.data.id).toBe(op.id);

    const list = await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(list.body).toStrictEqual({
      data: [
        {
          id: row?.id,
          eventType: "operation.succeeded",
          operationId: op.id,
          status: "succeeded",
          attempts: 3,
          lastStatusCode: 200,
          nextAttemptAt: null,
        },
      ],
      nextCursor: null,
    });
    const recorded = await system.db.execute<{ status_code: number; error: string | null }>(sql`
      SELECT status_code, error FROM webhook_attempts WHERE delivery_id = ${row?.id} ORDER BY attempted_at`);
    expect(recorded.rows).toEqual([
      { status_code: 500, error: "HTTP 500" },
      { status_code: 500, error: "HTTP 500" },
      { status_code: 200, error: null },
    ]);
    await expect.poll(() => finalsOf(endpoint.id)).toEqual([{ status: "succeeded", reason: "delivered" }]);
    expect(attemptsOf(endpoint.id)).toEqual([
      { outcome: "http_error", statusCode: 500 },
      { outcome: "http_error", statusCode: 500 },
      { outcome: "succeeded", statusCode: 200 },
    ]);
    for (const a of attempts) expect(a.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("after the last attempt of the schedule the delivery is failed, with no next attempt", async () => {
    const { api, rx, endpoint } = await clientWithEndpoint();
    rx.react = () => 503;
    const w = await newWallet(api);
    await api.settle((await api.topUp(w, 1)).body.id);
    const [row] = await waitForDeliveries(system, endpoint.id, (d) => d[0]?.status === "failed");
    expect(row?.attempts).toBe(3);
    expect(rx.received).toHaveLength(3);
    const list = await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(list.body.data).toMatchObject([
      { status: "failed", attempts: 3, lastStatusCode: 503, nextAttemptAt: null },
    ]);
    await expect
      .poll(() => finalsOf(endpoint.id))
      .toEqual([{ status: "failed", reason: "attempts_exhausted" }]);
    expect(attemptsOf(endpoint.id).map((a) => a.outcome)).toEqual(["http_error", "http_error", "http_error"]);
  });
});

describe("subscriptions", () => {
  it("an endpoint subscribed only to operation.failed gets no success events", async () => {
    const api = await newClient(system);
    const onlyFailed = await receiver();
    const everything = await receiver();
    const failedEndpoint = await createEndpoint(api, onlyFailed.url, ["operation.failed"]);
    const allEndpoint = await createEndpoint(api, everything.url);
    onlyFailed.secret = failedEndpoint.secret;
    everything.secret = allEndpoint.secret;

    const a = await newWallet(api);
    const b = await newWallet(api);
    const ok1 = await api.settle((await api.topUp(a, 100)).body.id);
    const ok2 = await api.settle((await api.transfer(a, b, 60)).body.id);
    const ko = await api.settle((await api.transfer(a, b, 41)).body.id);
    expect([ok1.status, ok2.status, ko.status]).toEqual(["succeeded", "succeeded", "failed"]);

    await waitForDeliveries(
      system,
      allEndpoint.id,
      (d) => d.length === 3 && d.every((x) => x.status === "succeeded"),
    );
    const failedRows = await waitForDeliveries(
      system,
      failedEndpoint.id,
      (d) => d[0]?.status === "succeeded",
    );
    expect(failedRows.map((d) => [d.operation_id, d.event_type])).toEqual([[ko.id, "operation.failed"]]);
    expect(payloads(onlyFailed).map((p) => [p.type, p.data.id])).toEqual([["operation.failed", ko.id]]);
    expect(
      payloads(everything)
        .map((p) => p.data.id)
        .sort(),
    ).toEqual([ok1.id, ok2.id, ko.id].sort());
    // The money: A kept 40, B got 60.
    expect((await api.get(`/v1/wallets/${a}`)).body.balance).toBe(40);
    expect((await api.get(`/v1/wallets/${b}`)).body.balance).toBe(60);
  });

  it("events go to the submitter's endpoints only, not to the receiving wallet's owner", async () => {
    const payer = await clientWithEndpoint();
    const payee = await clientWithEndpoint();
    const from = await newWallet(payer.api);
    const to = await newWallet(payee.api);
    await payer.api.settle((await payer.api.topUp(from, 500)).body.id);
    const transfer = await payer.api.settle((await payer.api.transfer(from, to, 200)).body.id);
    expect((await payee.api.get(`/v1/wallets/${to}`)).body.balance).toBe(200);
    await waitForDeliveries(
      system,
      payer.endpoint.id,
      (d) => d.length === 2 && d.every((x) => x.status === "succeeded"),
    );
    expect(payloads(payer.rx).map((p) => p.data.id)).toContain(transfer.id);
    expect(payee.rx.received).toEqual([]);
    expect(await storedDeliveries(system, payee.endpoint.id)).toEqual([]);
  });

  it("an operation set aside as internal_error is announced as operation.failed", async () => {
    const { api, rx, endpoint } = await clientWithEndpoint();
    const w = await newWallet(api);
    const accepted = await api.post(
      "/v1/top-ups",
      { walletId: w, amount: 50, metadata: { poison: "yes" } },
      { "idempotency-key": "poison-1" },
    );
    expect(accepted.status).toBe(202);
    const op = await api.settle(accepted.body.id);
    expect(op.failure.code).toBe("internal_error");
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 0, version: 0 });
    const [row] = await waitForDeliveries(system, endpoint.id, (d) => d[0]?.status === "succeeded");
    expect(row?.event_type).toBe("operation.failed");
    expect(payloadOf(rx.received[0])).toStrictEqual({
      type: "operation.failed",
      timestamp: op.completedAt,
      data: (await api.get(`/v1/operations/${op.id}`)).body,
    });
  });

  it("a client without endpoints gets no delivery rows", async () => {
    const api = await newClient(system);
    const w = await newWallet(api);
    const op = await api.settle((await api.topUp(w, 5)).body.id);
    const r = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE operation_id = ${op.id}`,
    );
    expect(r.rows[0]?.n).toBe(0);
  });
});

describe("DELETE /v1/webhook-endpoints/:id stops pending deliveries", () => {
  it("pending deliveries end failed at once; attempts in flight finish; nothing more is sent", async () => {
    const { api, rx, endpoint } = await clientWithEndpoint();
    rx.react = () => "hang";
    const w = await newWallet(api);
    for (let i = 0; i < 3; i++) await api.settle((await api.topUp(w, 1 + i)).body.id);
    expect((await api.get(`/v1/wallets/${w}`)).body.balance).toBe(6);
    // Two in flight (the per-endpoint bound), the third waits.
    await until("two requests held", () => rx.hanging() === 2);
    expect(rx.received).toHaveLength(2);

    const del = await api.request("DELETE", `/v1/webhook-endpoints/${endpoint.id}`);
    expect(del.status).toBe(204);
    const atDelete = await storedDeliveries(system, endpoint.id);
    expect(atDelete.map((d) => d.status)).toEqual(["failed", "failed", "failed"]);

    // The two in flight time out and are recorded; the delivery stays failed, none is retried.
    await waitForDeliveries(system, endpoint.id, (d) => d.reduce((n, x) => n + x.attempts, 0) === 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.received).toHaveLength(2);
    expect((await storedDeliveries(system, endpoint.id)).map((d) => d.status)).toEqual([
      "failed",
      "failed",
      "failed",
    ]);
    // A new operation of the client writes no delivery for the deleted endpoint.
    await api.settle((await api.topUp(w, 1)).body.id);
    expect(await storedDeliveries(system, endpoint.id)).toHaveLength(3);
  });
});

describe("the worker's webhook metrics", () => {
  it("count every attempt by outcome and every final delivery by status, as the sender reported them", async () => {
    const worker = system.inProcessWorkers[0];
    expect(worker).toBeDefined();
    const counts = (events: { [k: string]: unknown }[], key: string) => {
      const out: Record<string, number> = {};
      for (const e of events) out[String(e[key])] = (out[String(e[key])] ?? 0) + 1;
      return out;
    };
    /** The metric's values by the one label it has. */
    const byLabel = async (metric: string, label: string) => {
      const samples = await scrape(`http://127.0.0.1:${worker?.metricsPort}/metrics`);
      return Object.fromEntries(
        samples.filter((x) => x.name === metric).map((x) => [x.labels[label] as string, x.value]),
      );
    };
    expect(attempts.length).toBeGreaterThan(5);
    // Polled: an attempt may complete between the scrape and the comparison.
    await expect
      .poll(async () => [
        await byLabel("billing_webhook_attempts_total", "outcome"),
        await byLabel("billing_webhook_deliveries_total", "status"),
      ])
      .toEqual([counts(attempts, "outcome"), counts(finals, "status")]);
    expect(Object.keys(counts(attempts, "outcome"))).toEqual(
      expect.arrayContaining(["succeeded", "http_error", "timeout"]),
    );
  });
});
