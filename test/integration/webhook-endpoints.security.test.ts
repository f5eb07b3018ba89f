import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, newClient, newWallet } from "../helpers/http.ts";
import { expectProblem, problemWithoutRequestId } from "../helpers/problem.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";
import { createEndpoint, type Receiver, startReceiver, waitForDeliveries } from "../helpers/webhooks.ts";

/** Who may touch which endpoint, and what never leaves the server (the secret). */

let system: TestSystem;
let alice: Api & { clientId: string };
let bob: Api & { clientId: string };
let aliceEndpoint: { id: string; secret: string };
let rx: Receiver;
/** Every line the api and the in-process worker logged, at trace level. */
const logLines: string[] = [];

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
/** A token in the URL's query, as receivers often put one there: it must not be logged either. */
const URL_TOKEN = "tok_dont_log_me_4c1e";

/** The stored state of an endpoint row (deleted or not) and of its deliveries. */
async function endpointState(id: string) {
  const e = await system.db.execute<{ deleted: boolean }>(
    sql`SELECT deleted_at IS NOT NULL AS deleted FROM webhook_endpoints WHERE id = ${id}`,
  );
  const d = await system.db.execute<{ status: string }>(
    sql`SELECT status FROM webhook_deliveries WHERE endpoint_id = ${id} ORDER BY id`,
  );
  return { endpoint: e.rows, deliveries: d.rows.map((r) => r.status) };
}

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  rx = await startReceiver(`/hooks?token=${URL_TOKEN}`);
  system = await startSystem({
    partitions: 2,
    logger: pino({ level: "trace" }, sink),
    apiSettings: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
    workerSettings: {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
      WEBHOOK_RETRY_SCHEDULE: "0,0",
      WEBHOOK_POLL_INTERVAL_MS: "100",
    },
    inProcessWorker: {},
  });
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
  aliceEndpoint = await createEndpoint(alice, rx.url);
  rx.secret = aliceEndpoint.secret;
});
afterAll(async () => {
  await system?.stop();
  await rx?.close();
});

describe("the four routes refuse the wrong callers and change nothing", () => {
  const routes = [
    ["POST /v1/webhook-endpoints", "POST", () => "/v1/webhook-endpoints"],
    ["GET /v1/webhook-endpoints", "GET", () => "/v1/webhook-endpoints"],
    ["DELETE /v1/webhook-endpoints/:id", "DELETE", () => `/v1/webhook-endpoints/${aliceEndpoint.id}`],
    [
      "GET /v1/webhook-endpoints/:id/deliveries",
      "GET",
      () => `/v1/webhook-endpoints/${aliceEndpoint.id}/deliveries`,
    ],
  ] as const;

  it.each(routes)("%s: no key is 401, the operator's token is 403", async (_, method, path) => {
    const state = await endpointState(aliceEndpoint.id);
    const body = method === "POST" ? { body: { url: rx.url } } : {};
    expectProblem(await new Api(system).request(method, path(), body), "unauthorized");
    expectProblem(await new Api(system, ADMIN_TOKEN).request(method, path(), body), "forbidden");
    expect(await endpointState(aliceEndpoint.id)).toEqual(state);
    const count = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM webhook_endpoints`,
    );
    expect(count.rows[0]?.n).toBe(1);
  });
});

describe("another client's endpoint is reported exactly as a missing one", () => {
  it("bob cannot list, read the deliveries of, or delete alice's endpoint", async () => {
    const w = await newWallet(alice);
    await alice.settle((await alice.topUp(w, 10)).body.id);
    await waitForDeliveries(system, aliceEndpoint.id, (d) => d[0]?.status === "succeeded");
    const state = await endpointState(aliceEndpoint.id);
    expect(state).toEqual({ endpoint: [{ deleted: false }], deliveries: ["succeeded"] });

    expect((await bob.get("/v1/webhook-endpoints")).body).toEqual({ data: [], nextCursor: null });
    for (const path of [`/v1/webhook-endpoints/%s/deliveries`]) {
      const foreign = await bob.get(path.replace("%s", aliceEndpoint.id));
      const missing = await bob.get(path.replace("%s", UNKNOWN_ID));
      expectProblem(foreign, "not_found");
      expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    }
    const foreignDelete = await bob.request("DELETE", `/v1/webhook-endpoints/${aliceEndpoint.id}`);
    const missingDelete = await bob.request("DELETE", `/v1/webhook-endpoints/${UNKNOWN_ID}`);
    expectProblem(foreignDelete, "not_found");
    expect(problemWithoutRequestId(foreignDelete)).toEqual(problemWithoutRequestId(missingDelete));

    // Alice's endpoint is untouched and still hers.
    expect(await endpointState(aliceEndpoint.id)).toEqual(state);
    const mine = (await alice.get("/v1/webhook-endpoints")).body.data;
    expect(mine.map((e: { id: string }) => e.id)).toEqual([aliceEndpoint.id]);
    expect((await alice.get(`/v1/webhook-endpoints/${aliceEndpoint.id}/deliveries`)).body.data).toHaveLength(
      1,
    );
  });
});

describe("the signing secret is shown once and never again", () => {
  it("no list answer carries it, and neither the api nor the worker logs it or the URL's query", async () => {
    const w = await newWallet(alice);
    rx.react = (i) => (i % 2 === 0 ? 500 : 200);
    await alice.settle((await alice.topUp(w, 25)).body.id);
    const refused = await alice.settle((await alice.transfer(w, await newWallet(alice), 1_000)).body.id);
    expect(refused.failure.code).toBe("insufficient_funds");
    await waitForDeliveries(
      system,
      aliceEndpoint.id,
      (d) => d.length >= 2 && d.every((x) => x.status !== "pending"),
    );
    const answers = [
      await alice.get("/v1/webhook-endpoints"),
      await alice.get(`/v1/webhook-endpoints/${aliceEndpoint.id}/deliveries`),
    ];
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toContain(aliceEndpoint.secret);
      expect(JSON.stringify(r.body)).not.toContain(aliceEndpoint.secret.slice("whsec_".length));
    }
    // The worker did log attempts (at debug): the check below looks at real lines.
    expect(logLines.some((l) => l.includes('"msg":"webhook attempt"'))).toBe(true);
    const key = aliceEndpoint.secret.slice("whsec_".length);
    expect(logLines.filter((l) => l.includes(key) || l.includes(URL_TOKEN))).toEqual([]);
    expect(rx.received.every((r) => r.verified.ok)).toBe(true);
  });
});
