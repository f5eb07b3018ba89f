import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Api, newClient, newWallet, type Reply, waitAllSettled } from "../helpers/http.ts";
import {
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem, problemWithoutRequestId } from "../helpers/problem.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";
import { createEndpoint, tableResolver } from "../helpers/webhooks.ts";

let system: TestSystem;
let alice: Api & { clientId: string };
let bob: Api & { clientId: string };
/** Alice's wallets (the first funded with 1,000) and an operation of hers. */
let aliceWallet: string;
let aliceWallet2: string;
let aliceOperation: string;
/** Bob's funded wallet. */
let bobWallet: string;
/** A hold of Alice's (10 from her first wallet to her second), applied. */
let aliceHold: string;
/** Alice's webhook endpoints: one to list deliveries of, one that her own key deletes. */
let aliceEndpoint: string;
let aliceEndpointToDelete: string;
/** A `.test` name (RFC 2606) only the api's injected resolver knows: nothing is ever sent out. */
const HOOK_URL = "https://hooks.example.test/alice";
let before: MoneySnapshot;

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    workerProcesses: 1,
    apiResolveHost: tableResolver({ "hooks.example.test": ["93.184.215.14"] }),
  });
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
  aliceWallet = await newWallet(alice);
  aliceWallet2 = await newWallet(alice);
  bobWallet = await newWallet(bob);
  aliceEndpoint = (await createEndpoint(alice, HOOK_URL)).id;
  aliceEndpointToDelete = (await createEndpoint(alice, HOOK_URL)).id;
  aliceOperation = (await alice.settle((await alice.topUp(aliceWallet, 1_000)).body.id)).id;
  await bob.settle((await bob.topUp(bobWallet, 1_000)).body.id);
  const hold = await alice.post(
    "/v1/holds",
    { fromWalletId: aliceWallet, toWalletId: aliceWallet2, amount: 10 },
    { "idempotency-key": randomUUID() },
  );
  aliceHold = (await alice.settle(hold.body.id)).id;
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

interface Route {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** Who may call it. */
  who: "operator" | "client";
  /** A request that would succeed for the right caller. */
  request: () => { path: string; body?: unknown; headers?: Record<string, string> };
}

/** Every /v1 route, each with a request that its rightful caller would get answered. */
const ROUTES: Route[] = [
  {
    method: "POST",
    path: "/v1/clients",
    who: "operator",
    request: () => ({ path: "/v1/clients", body: { name: "x" } }),
  },
  { method: "POST", path: "/v1/wallets", who: "client", request: () => ({ path: "/v1/wallets", body: {} }) },
  { method: "GET", path: "/v1/wallets", who: "client", request: () => ({ path: "/v1/wallets" }) },
  {
    method: "GET",
    path: "/v1/wallets/:id",
    who: "client",
    request: () => ({ path: `/v1/wallets/${aliceWallet}` }),
  },
  {
    method: "GET",
    path: "/v1/wallets/:id/entries",
    who: "client",
    request: () => ({ path: `/v1/wallets/${aliceWallet}/entries` }),
  },
  {
    method: "POST",
    path: "/v1/top-ups",
    who: "client",
    request: () => ({
      path: "/v1/top-ups",
      body: { walletId: aliceWallet, amount: 5 },
      headers: { "idempotency-key": randomUUID() },
    }),
  },
  {
    method: "POST",
    path: "/v1/transfers",
    who: "client",
    request: () => ({
      path: "/v1/transfers",
      body: { fromWalletId: aliceWallet, toWalletId: aliceWallet2, amount: 5 },
      headers: { "idempotency-key": randomUUID() },
    }),
  },
  {
    method: "POST",
    path: "/v1/payouts",
    who: "client",
    request: () => ({
      path: "/v1/payouts",
      body: { walletId: aliceWallet, amount: 1 },
      headers: { "idempotency-key": randomUUID() },
    }),
  },
  {
    method: "POST",
    path: "/v1/holds",
    who: "client",
    request: () => ({
      path: "/v1/holds",
      body: { fromWalletId: aliceWallet, toWalletId: aliceWallet2, amount: 1 },
      headers: { "idempotency-key": randomUUID() },
    }),
  },
  {
    method: "POST",
    path: "/v1/holds/:id/capture",
    who: "client",
    request: () => ({
      path: `/v1/holds/${aliceHold}/capture`,
      body: { amount: 1 },
      headers: { "idempotency-key": randomUUID() },
    }),
  },
  {
    method: "POST",
    path: "/v1/holds/:id/void",
    who: "client",
    request: () => ({
      path: `/v1/holds/${aliceHold}/void`,
      body: {},
      headers: { "idempotency-key": randomUUID() },
    }),
  },
  {
    method: "POST",
    path: "/v1/operations/bulk",
    who: "client",
    request: () => ({
      path: "/v1/operations/bulk",
      body: {
        operations: [{ type: "top_up", idempotencyKey: randomUUID(), walletId: aliceWallet, amount: 1 }],
      },
    }),
  },
  {
    method: "GET",
    path: "/v1/wallets/:id/balance",
    who: "client",
    request: () => ({ path: `/v1/wallets/${aliceWallet}/balance?at=${new Date().toISOString()}` }),
  },
  {
    method: "GET",
    path: "/v1/operations/:id",
    who: "client",
    request: () => ({ path: `/v1/operations/${aliceOperation}` }),
  },
  { method: "GET", path: "/v1/operations", who: "client", request: () => ({ path: "/v1/operations" }) },
  {
    method: "POST",
    path: "/v1/webhook-endpoints",
    who: "client",
    request: () => ({ path: "/v1/webhook-endpoints", body: { url: HOOK_URL } }),
  },
  {
    method: "GET",
    path: "/v1/webhook-endpoints",
    who: "client",
    request: () => ({ path: "/v1/webhook-endpoints" }),
  },
  {
    method: "GET",
    path: "/v1/webhook-endpoints/:id/deliveries",
    who: "client",
    request: () => ({ path: `/v1/webhook-endpoints/${aliceEndpoint}/deliveries` }),
  },
  {
    method: "DELETE",
    path: "/v1/webhook-endpoints/:id",
    who: "client",
    request: () => ({ path: `/v1/webhook-endpoints/${aliceEndpointToDelete}` }),
  },
];

const send = (as: Api, route: Route): Promise<Reply> => {
  const { path, body, headers } = route.request();
  return as.request(route.method, path, {
    ...(body !== undefined ? { body } : {}),
    ...(headers ? { headers } : {}),
  });
};

const asBearer = (value: string) => ({ authorization: value });

describe.each(ROUTES)("$method $path", (route) => {
  it("without an Authorization header is 401 unauthorized and changes nothing", async () => {
    expectProblem(await send(new Api(system), route), "unauthorized");
    await expectNothingMoved(system, before);
  });

  it.each([
    ["an unknown sk_ key", () => `Bearer sk_${randomBytes(32).toString("base64url")}`],
    ["the operator's token with one character more", () => `Bearer ${ADMIN_TOKEN}x`],
    ["a client's key with one character less", () => `Bearer ${String(alice.key).slice(0, -1)}`],
    ["a valid key under the Basic scheme", () => `Basic ${alice.key}`],
    ["the scheme without a key", () => "Bearer "],
    ["a bare key without a scheme", () => String(alice.key)],
  ])("with %s is 401 unauthorized and changes nothing", async (_, header) => {
    const { path, body, headers } = route.request();
    const r = await new Api(system).request(route.method, path, {
      ...(body !== undefined ? { body } : {}),
      headers: { ...headers, ...asBearer(header()) },
    });
    expectProblem(r, "unauthorized");
    await expectNothingMoved(system, before);
  });

  if (route.who === "client") {
    it("with the operator's ADMIN_TOKEN is 403 forbidden and changes nothing", async () => {
      expectProblem(await send(new Api(system, ADMIN_TOKEN), route), "forbidden");
      await expectNothingMoved(system, before);
    });

    it("with the client's own key is answered (the request is a valid one)", async () => {
      const r = await send(alice, route);
      expect([200, 201, 202, 204]).toContain(r.status);
    });
  } else {
    it("with a client's key is 403 forbidden and creates nothing", async () => {
      expectProblem(await send(alice, route), "forbidden");
      await expectNothingMoved(system, before);
    });

    it("with the operator's token is answered", async () => {
      expect((await send(new Api(system, ADMIN_TOKEN), route)).status).toBe(201);
    });
  }
});

describe("another client's resources are reported exactly as missing ones", () => {
  it.each([
    ["GET /v1/wallets/:id", (id: string) => `/v1/wallets/${id}`],
    ["GET /v1/wallets/:id/entries", (id: string) => `/v1/wallets/${id}/entries`],
    ["GET /v1/wallets/:id/balance", (id: string) => `/v1/wallets/${id}/balance?at=2026-01-01T00:00:00Z`],
    ["GET /v1/operations?walletId=", (id: string) => `/v1/operations?walletId=${id}`],
  ])("%s: 404 wallet_not_found", async (_, path) => {
    const foreign = await bob.get(path(aliceWallet));
    const missing = await bob.get(path(UNKNOWN_ID));
    expectProblem(foreign, "wallet_not_found");
    expectProblem(missing, "wallet_not_found");
    expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    // The owner does see it.
    expect((await alice.get(path(aliceWallet))).status).toBe(200);
  });

  it("GET /v1/operations/:id (also with ?wait): 404 not_found", async () => {
    for (const query of ["", "?wait=1"]) {
      const foreign = await bob.get(`/v1/operations/${aliceOperation}${query}`);
      const missing = await bob.get(`/v1/operations/${UNKNOWN_ID}${query}`);
      expectProblem(foreign, "not_found");
      expectProblem(missing, "not_found");
      expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    }
  });

  it("another client's wallets and operations are absent from the lists", async () => {
    const wallets = (await bob.get("/v1/wallets?limit=100")).body.data.map((w: { id: string }) => w.id);
    expect(wallets).toEqual([bobWallet]);
    const operations = (await bob.get("/v1/operations?limit=100")).body.data;
    expect(operations.map((o: { id: string }) => o.id)).not.toContain(aliceOperation);
  });

  it.each([
    [
      "a top-up of another client's wallet",
      "/v1/top-ups",
      () => ({ walletId: aliceWallet, amount: 5 }),
      () => ({ walletId: UNKNOWN_ID, amount: 5 }),
    ],
    [
      "a transfer from another client's wallet",
      "/v1/transfers",
      () => ({ fromWalletId: aliceWallet, toWalletId: bobWallet, amount: 5 }),
      () => ({ fromWalletId: UNKNOWN_ID, toWalletId: bobWallet, amount: 5 }),
    ],
  ])("%s: 404 wallet_not_found, no money moves", async (_, path, foreignBody, missingBody) => {
    const foreignKey = randomUUID();
    const foreign = await bob.post(path, foreignBody(), { "idempotency-key": foreignKey });
    const missing = await bob.post(path, missingBody(), { "idempotency-key": randomUUID() });
    expectProblem(foreign, "wallet_not_found");
    expectProblem(missing, "wallet_not_found");
    expect(problemWithoutRequestId(foreign)).toEqual(problemWithoutRequestId(missing));
    expect(await operationsWithKey(system, foreignKey)).toBe(0);
    await expectNothingMoved(system, before);
  });
});

describe("the operator's token cannot move money", () => {
  it("a top-up and a transfer with ADMIN_TOKEN are 403; no balance changes and no operation row exists", async () => {
    const admin = new Api(system, ADMIN_TOKEN);
    const aliceBefore = (await alice.get(`/v1/wallets/${aliceWallet}`)).body;
    const bobBefore = (await bob.get(`/v1/wallets/${bobWallet}`)).body;
    const keys = [randomUUID(), randomUUID()];
    expectProblem(await admin.topUp(aliceWallet, 1_000_000, keys[0]), "forbidden");
    expectProblem(await admin.transfer(aliceWallet, bobWallet, 500, keys[1]), "forbidden");
    for (const k of keys) expect(await operationsWithKey(system, k)).toBe(0);
    await waitAllSettled(system);
    await expectNothingMoved(system, before);
    expect((await alice.get(`/v1/wallets/${aliceWallet}`)).body).toStrictEqual(aliceBefore);
    expect((await bob.get(`/v1/wallets/${bobWallet}`)).body).toStrictEqual(bobBefore);
  });
});

describe("checks run in order: authentication before anything else", () => {
  it("no key with an invalid body, a wrong media type or a missing Idempotency-Key is still 401", async () => {
    const anonymous = new Api(system);
    expectProblem(await anonymous.post("/v1/top-ups", { amount: -1 }), "unauthorized");
    expectProblem(
      await anonymous.request("POST", "/v1/wallets", {
        rawBody: "{}",
        headers: { "content-type": "text/plain" },
      }),
      "unauthorized",
    );
    expectProblem(await anonymous.get("/v1/operations?limit=0"), "unauthorized");
    expectProblem(await anonymous.get("/v1/no-such-route"), "unauthorized");
    await expectNothingMoved(system, before);
  });

  it("the operator's token on a client route with an invalid body is 403, not 400", async () => {
    const admin = new Api(system, ADMIN_TOKEN);
    expectProblem(await admin.post("/v1/top-ups", { amount: -1 }), "forbidden");
    expectProblem(await admin.get("/v1/operations?limit=0"), "forbidden");
    await expectNothingMoved(system, before);
  });

  // Who may use a route is settled before the body is read, whatever is wrong with the body.
  const unreadable: [string, { rawBody: string; headers: Record<string, string> }][] = [
    ["JSON that does not parse", { rawBody: "{", headers: { "content-type": "application/json" } }],
    ["a member named twice", { rawBody: '{"a":1,"a":2}', headers: { "content-type": "application/json" } }],
    ["text/plain", { rawBody: "x", headers: { "content-type": "text/plain" } }],
    [
      "a body over the route's limit",
      {
        rawBody: JSON.stringify({ x: "x".repeat(1_100_000) }),
        headers: { "content-type": "application/json" },
      },
    ],
  ];

  it.each(unreadable)(
    "the operator's token on a client route with %s is 403, not 400, 413 or 415",
    async (_, body) => {
      const admin = new Api(system, ADMIN_TOKEN);
      for (const path of ["/v1/top-ups", "/v1/wallets", "/v1/operations/bulk", "/v1/webhook-endpoints"]) {
        const r = await admin.request("POST", path, {
          rawBody: body.rawBody,
          headers: { ...body.headers, "idempotency-key": randomUUID() },
        });
        expectProblem(r, "forbidden");
      }
      await expectNothingMoved(system, before);
    },
  );

  it.each(unreadable)(
    "a client's key on /v1/clients with %s is 403, not 400, 413 or 415",
    async (_, body) => {
      expectProblem(await alice.request("POST", "/v1/clients", body), "forbidden");
      expectProblem(await alice.get("/v1/clients"), "forbidden");
      await expectNothingMoved(system, before);
    },
  );

  it("a path in another case is the same route, and so the same rule: 403 before the body", async () => {
    for (const path of ["/v1/CLIENTS", "/v1/Clients/", "/v1/clientS"]) {
      expectProblem(await alice.post(path, { name: "mallory" }), "forbidden");
    }
    const admin = new Api(system, ADMIN_TOKEN);
    for (const path of ["/v1/WALLETS", "/v1/Top-Ups", "/v1/OPERATIONS/bulk"]) {
      expectProblem(
        await admin.request("POST", path, { rawBody: "{", headers: { "content-type": "application/json" } }),
        "forbidden",
      );
    }
    await expectNothingMoved(system, before);
    expect((await admin.post("/v1/CLIENTS", { name: "cased" })).status).toBe(201);
  });

  it("the scheme is case-insensitive (RFC 9110), the key is not", async () => {
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      const r = await new Api(system).get("/v1/wallets", { authorization: `${scheme} ${alice.key}` });
      expect(r.status).toBe(200);
    }
    const upper = String(alice.key).toUpperCase();
    expectProblem(
      await new Api(system).get("/v1/wallets", { authorization: `Bearer ${upper}` }),
      "unauthorized",
    );
  });

  it("an unknown route under /v1, once authenticated, is 404 not_found", async () => {
    expectProblem(await alice.get("/v1/no-such-route"), "not_found");
    expectProblem(await alice.request("DELETE", `/v1/operations/${aliceOperation}`), "not_found");
  });
});
