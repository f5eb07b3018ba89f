import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newClient, newWallet, walkPages } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import {
  createEndpoint,
  type Receiver,
  startReceiver,
  tableResolver,
  waitForDeliveries,
} from "../helpers/webhooks.ts";

/**
 * The four webhook routes, as a client uses them. Names under `.test` (RFC 2606) resolve
 * through the api's injected resolver only: nothing here ever sends to a real host.
 */

let system: TestSystem;
let rx: Receiver;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const BOTH = ["operation.succeeded", "operation.failed"];

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    // The deliveries tests send to a receiver on 127.0.0.1.
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    apiResolveHost: tableResolver({ "hooks.example.test": ["93.184.215.14"] }),
    workerSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", WEBHOOK_POLL_INTERVAL_MS: "100" },
    inProcessWorker: {},
  });
  rx = await startReceiver();
});
afterAll(async () => {
  await system?.stop();
  await rx?.close();
});

describe("POST /v1/webhook-endpoints", () => {
  it("creates an endpoint subscribed to both events by default; the secret is shown once", async () => {
    const api = await newClient(system);
    const r = await api.post("/v1/webhook-endpoints", { url: "https://hooks.example.test/billing" });
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.body).toStrictEqual({
      id: expect.stringMatching(UUID_V7),
      url: "https://hooks.example.test/billing",
      events: BOTH,
      secret: expect.stringMatching(SECRET),
      createdAt: expect.stringMatching(ISO_UTC),
    });
    // whsec_ + base64 of 32 random bytes.
    expect(Buffer.from(r.body.secret.slice("whsec_".length), "base64")).toHaveLength(32);

    const list = await api.get("/v1/webhook-endpoints");
    const { secret: _secret, ...withoutSecret } = r.body;
    expect(list.body).toStrictEqual({ data: [withoutSecret], nextCursor: null });
    expect(JSON.stringify(list.body)).not.toContain(r.body.secret);

    // The server keeps the secret itself: it must sign every delivery with it.
    const stored = await system.db.execute<{ secret: string; client_id: string }>(
      sql`SELECT secret, client_id::text FROM webhook_endpoints WHERE id = ${r.body.id}`,
    );
    expect(stored.rows).toEqual([{ secret: r.body.secret, client_id: api.clientId }]);
  });

  it("stores the URL as the WHATWG parser normalises it, and the events asked for", async () => {
    const api = await newClient(system);
    const r = await api.post("/v1/webhook-endpoints", {
      url: "HTTPS://Hooks.Example.TEST:443/in?kind=ops#frag",
      events: ["operation.failed"],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      url: "https://hooks.example.test/in?kind=ops#frag",
      events: ["operation.failed"],
    });
    const both = await api.post("/v1/webhook-endpoints", {
      url: "http://hooks.example.test:8080/",
      events: ["operation.failed", "operation.succeeded"],
    });
    expect(both.body).toMatchObject({
      url: "http://hooks.example.test:8080/",
      events: ["operation.failed", "operation.succeeded"],
    });
  });

  it("gives every endpoint its own secret", async () => {
    const api = await newClient(system);
    const secrets = new Set<string>();
    for (let i = 0; i < 5; i++)
      secrets.add((await createEndpoint(api, "https://hooks.example.test/")).secret);
    expect(secrets.size).toBe(5);
  });
});

describe("GET /v1/webhook-endpoints", () => {
  it("lists the caller's live endpoints, newest first, a page at a time, each exactly once", async () => {
    const owner = await newClient(system);
    const other = await newClient(system);
    await createEndpoint(other, "https://hooks.example.test/other");
    const created: string[] = [];
    for (let i = 0; i < 5; i++)
      created.push((await createEndpoint(owner, `https://hooks.example.test/${i}`)).id);

    const pages = await walkPages<{ id: string; url: string }>(owner, "/v1/webhook-endpoints", 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((e) => e.id)).toEqual([...created].reverse());
    for (const e of pages.flat()) {
      expect(Object.keys(e).sort()).toEqual(["createdAt", "events", "id", "url"]);
    }

    expect((await owner.request("DELETE", `/v1/webhook-endpoints/${created[2]}`)).status).toBe(204);
    const after = (await owner.get("/v1/webhook-endpoints")).body;
    expect(after.data.map((e: { id: string }) => e.id)).toEqual([
      created[4],
      created[3],
      created[1],
      created[0],
    ]);
    expect(after.nextCursor).toBeNull();
  });

  it("a client without endpoints gets an empty page", async () => {
    const api = await newClient(system);
    expect((await api.get("/v1/webhook-endpoints")).body).toEqual({ data: [], nextCursor: null });
  });
});

describe("DELETE /v1/webhook-endpoints/:id", () => {
  it("answers 204 with no body; the endpoint is gone from the list and its deliveries route", async () => {
    const api = await newClient(system);
    const endpoint = await createEndpoint(api, "https://hooks.example.test/x");
    const r = await api.request("DELETE", `/v1/webhook-endpoints/${endpoint.id}`);
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect((await api.get("/v1/webhook-endpoints")).body.data).toEqual([]);
    expect((await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).status).toBe(404);
    const row = await system.db.execute<{ deleted: boolean }>(
      sql`SELECT deleted_at IS NOT NULL AS deleted FROM webhook_endpoints WHERE id = ${endpoint.id}`,
    );
    expect(row.rows).toEqual([{ deleted: true }]);
  });
});

describe("GET /v1/webhook-endpoints/:id/deliveries", () => {
  it("lists an endpoint's deliveries newest first with attempts, lastStatusCode and nextAttemptAt", async () => {
    const api = await newClient(system);
    const endpoint = await createEndpoint(api, rx.url);
    rx.secret = endpoint.secret;
    expect((await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body).toEqual({
      data: [],
      nextCursor: null,
    });

    const a = await newWallet(api);
    const b = await newWallet(api);
    const ops = [
      await api.settle((await api.topUp(a, 300)).body.id),
      await api.settle((await api.transfer(a, b, 100)).body.id),
      await api.settle((await api.transfer(a, b, 500)).body.id),
    ];
    expect(ops.map((o) => o.status)).toEqual(["succeeded", "succeeded", "failed"]);
    expect((await api.get(`/v1/wallets/${a}`)).body.balance).toBe(200);
    expect((await api.get(`/v1/wallets/${b}`)).body.balance).toBe(100);
    await waitForDeliveries(
      system,
      endpoint.id,
      (d) => d.length === 3 && d.every((x) => x.status === "succeeded"),
    );

    const pages = await walkPages<Record<string, unknown>>(
      api,
      `/v1/webhook-endpoints/${endpoint.id}/deliveries`,
      2,
    );
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    const deliveries = pages.flat();
    expect(deliveries.map((d) => d.operationId)).toEqual(ops.map((o) => o.id).reverse());
    deliveries.forEach((d, i) => {
      expect(d).toStrictEqual({
        id: expect.stringMatching(UUID_V7),
        eventType: `operation.${ops[2 - i]?.status}`,
        operationId: ops[2 - i]?.id,
        status: "succeeded",
        attempts: 1,
        lastStatusCode: 200,
        nextAttemptAt: null,
      });
    });
    // The ids the receiver saw as webhook-id.
    expect(rx.received.map((r) => r.headers["webhook-id"]).sort()).toEqual(
      deliveries.map((d) => `msg_${d.id}`).sort(),
    );
  });

  it("a delivery waiting for its retry shows its attempts so far, the last status and when it is next tried", async () => {
    const failing = await startReceiver();
    failing.react = () => 500;
    try {
      const api = await newClient(system);
      const endpoint = await createEndpoint(api, failing.url);
      failing.secret = endpoint.secret;
      const w = await newWallet(api);
      const op = await api.settle((await api.topUp(w, 7)).body.id);
      const [row] = await waitForDeliveries(system, endpoint.id, (d) => d[0]?.attempts === 1);
      const r = await api.get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
      expect(r.body.data).toStrictEqual([
        {
          id: row?.id,
          eventType: "operation.succeeded",
          operationId: op.id,
          status: "pending",
          attempts: 1,
          lastStatusCode: 500,
          nextAttemptAt: expect.stringMatching(ISO_UTC),
        },
      ]);
      // The default schedule's first delay is 5 s (plus up to 10 % jitter) after the failed attempt.
      const attempt = await system.db.execute<{ ms: number }>(
        sql`SELECT (extract(epoch FROM attempted_at) * 1000)::float8 AS ms FROM webhook_attempts WHERE delivery_id = ${row?.id}`,
      );
      const attemptedAt = Number(attempt.rows[0]?.ms);
      expect(attemptedAt).toBeGreaterThan(0);
      expect(Date.parse(r.body.data[0].nextAttemptAt)).toBeGreaterThanOrEqual(attemptedAt + 5_000);
      expect(failing.received).toHaveLength(1);
      expect(failing.received[0]?.verified.ok).toBe(true);
    } finally {
      await failing.close();
    }
  });
});
