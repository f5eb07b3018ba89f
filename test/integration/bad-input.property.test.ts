import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClientBody, createWalletBody, createWebhookEndpointBody } from "../../shared/http/schemas.ts";
import { Api, newClient, newWallet, type Reply } from "../helpers/http.ts";
import { expectNothingMoved, type MoneySnapshot, moneySnapshot } from "../helpers/money.ts";
import { PROBLEM_STATUS, type ProblemCode } from "../helpers/problem.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Property-based bad input (fast-check): arbitrary JSON, raw bodies, headers, ids, query
 * strings, unicode, huge numbers, deep nesting and oversized bodies thrown at every route.
 * Whatever the input: never a 5xx, always an RFC 9457 problem whose `code` is one of docs/api.md's
 * with its status, and nothing in the database changes (every generated input is invalid).
 */

let system: TestSystem;
let api: Api;
let admin: Api;
let wallet: string;
let before: MoneySnapshot;

/** Each property: this many generated requests. */
const RUNS = 60;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
  admin = new Api(system, ADMIN_TOKEN);
  wallet = await newWallet(api);
  await api.settle((await api.topUp(wallet, 1_000)).body.id);
  before = await moneySnapshot(system);
});
afterAll(async () => system?.stop());

/** A refusal as docs/api.md wants it: a 4xx problem body whose code matches its status. */
function expectCleanRefusal(r: Reply, what: string): void {
  const context = `${what} → ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
  expect(r.status, context).toBeGreaterThanOrEqual(400);
  expect(r.status, context).toBeLessThan(500);
  expect(r.headers.get("content-type"), context).toMatch(/^application\/problem\+json/);
  const code = r.body?.code as ProblemCode;
  expect(Object.keys(PROBLEM_STATUS), context).toContain(code);
  expect(PROBLEM_STATUS[code], context).toBe(r.status);
  expect(r.body.requestId, context).toBe(r.headers.get("x-request-id"));
}

/** Any JSON value, with unicode strings, deep-ish nesting and non-integer amounts (after `wallet` exists). */
const jsonValue = () =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 6 }),
    fc
      .double()
      .filter((d) => !Number.isSafeInteger(d) || d <= 0)
      .map((amount) => ({ walletId: wallet, amount })),
    fc.record({
      walletId: fc.oneof(fc.uuid(), fc.string({ unit: "binary" }), fc.constant(wallet)),
      fromWalletId: fc.oneof(fc.uuid(), fc.string({ unit: "binary" })),
      toWalletId: fc.oneof(fc.uuid(), fc.string({ unit: "grapheme" })),
      amount: fc.oneof(fc.double(), fc.integer({ max: 0 }), fc.string(), fc.constant(2 ** 53)),
      metadata: fc.oneof(fc.object(), fc.dictionary(fc.string({ unit: "grapheme" }), fc.anything())),
    }),
  );

/** Raw bodies that are not what JSON.parse accepts, too deep, or over 64 KiB. */
const rawBody = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`),
  fc.integer({ min: 65_537, max: 200_000 }).map((n) => JSON.stringify({ metadata: { k: "x".repeat(n) } })),
  fc.bigInt().map((n) => `{"walletId":"${wallet}","amount":${n}999999999999999999}`),
  fc.constantFrom(
    '{"amount":1e400}',
    '{"amount":-0}',
    '{"amount":1.0000000000000002}',
    "\uFEFF{}",
    "{'a':1}",
  ),
);

/** Header values fetch can send: latin-1 text without control characters (often not ASCII). */
const headerValue = fc
  .string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 400 })
  .filter((s) => !/[\x7f-\x9f]/.test(s) && s.trim() === s);

/** Path segments: arbitrary text, URI-encoded so it reaches the route as one `:id`. */
const pathId = fc.oneof(
  // Not ".": the client resolves a "." segment away before sending (`/v1/wallets/.` is the list).
  fc
    .string({ unit: "grapheme", minLength: 1 })
    .filter((s) => s !== ".")
    .map(encodeURIComponent),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom("..", "%00", "null", "undefined", "0", "-1", "1e9", `${"f".repeat(1_000)}`),
);

const query = fc.dictionary(
  fc.constantFrom("limit", "cursor", "wait", "status", "walletId", "x"),
  fc.oneof(
    fc.string({ unit: "grapheme" }),
    fc.integer().map(String),
    fc.double().map(String),
    fc.constantFrom("101", "0", "31", "-1", "1e2", "0x10", "NaN", "", "succeeded "),
  ),
  { minKeys: 1 },
);
const queryString = (q: Record<string, string>) => new URLSearchParams(q).toString();

const badPage = (q: Record<string, string>) =>
  (q.limit !== undefined && !/^(?:[1-9]\d?|100)$/.test(q.limit)) || q.cursor !== undefined;
/** Invalid queries: a known parameter out of range (unknown parameters are ignored, as documented). */
const invalidPageQuery = query.filter(badPage);
const invalidOperationsQuery = query.filter(
  (q) =>
    badPage(q) ||
    (q.status !== undefined && !["pending", "succeeded", "failed"].includes(q.status)) ||
    q.walletId !== undefined,
);

/**
 * Every route that moves or reserves money; a capture or void of a hold that does not exist is a
 * 404 even with a valid body, and so is a refund (its original is named in the body).
 */
const NO_HOLD = "01900000-0000-7000-8000-0000000000ff";
const MONEY_ROUTES = [
  "/v1/top-ups",
  "/v1/transfers",
  "/v1/payouts",
  "/v1/holds",
  `/v1/holds/${NO_HOLD}/capture`,
  `/v1/holds/${NO_HOLD}/void`,
  "/v1/refunds",
] as const;

describe("bad input never causes a 5xx or a change, and always gets a problem body", () => {
  it("POST /v1/top-ups, /transfers, /payouts, /holds, a hold's /capture and /void, and /refunds with arbitrary JSON bodies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...MONEY_ROUTES), jsonValue(), fc.uuid(), async (route, body, key) => {
        const r = await api.post(route, body, { "idempotency-key": key });
        expectCleanRefusal(r, `${route} ${JSON.stringify(body)?.slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
    await expectNothingMoved(system, before);
  });

  it("POST /v1/operations/bulk with arbitrary envelopes and items: the request or each item refused cleanly", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          jsonValue(),
          fc.array(jsonValue(), { maxLength: 5 }).map((operations) => ({ operations })),
        ),
        async (body) => {
          const r = await api.post("/v1/operations/bulk", body);
          if (r.status === 200) {
            // An envelope of objects: each item refused on its own, with a problem body.
            for (const item of r.body.data) {
              expect([400, 404, 422]).toContain(item.status);
              expect(item.error.status).toBe(item.status);
            }
          } else expectCleanRefusal(r, `bulk ${JSON.stringify(body)?.slice(0, 200)}`);
        },
      ),
      { numRuns: RUNS },
    );
    await expectNothingMoved(system, before);
  });

  it("POST routes with raw bodies: malformed, deep, huge numbers, oversized", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MONEY_ROUTES, "/v1/wallets", "/v1/webhook-endpoints", "/v1/operations/bulk"),
        rawBody,
        fc.uuid(),
        async (route, body, key) => {
          // An empty body, "{}" (with or without a byte order mark) and the like are valid wallets.
          fc.pre(!(route === "/v1/wallets" && isValidJson(body, createWalletBody)));
          fc.pre(!(route === "/v1/webhook-endpoints" && isValidJson(body, createWebhookEndpointBody)));
          const r = await api.request("POST", route, {
            rawBody: body,
            headers: { "content-type": "application/json", "idempotency-key": key },
          });
          expectCleanRefusal(r, `${route} raw ${body.slice(0, 120)}`);
        },
      ),
      { numRuns: RUNS },
    );
    await expectNothingMoved(system, before);
  });

  it("POST /v1/wallets, /v1/clients and /v1/webhook-endpoints with arbitrary JSON bodies", async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue(), async (body) => {
        fc.pre(
          !createWalletBody.safeParse(body).success &&
            !createClientBody.safeParse(body).success &&
            !createWebhookEndpointBody.safeParse(body).success,
        );
        expectCleanRefusal(await api.post("/v1/wallets", body), `wallets ${JSON.stringify(body)}`);
        expectCleanRefusal(await admin.post("/v1/clients", body), `clients ${JSON.stringify(body)}`);
        expectCleanRefusal(
          await api.post("/v1/webhook-endpoints", body),
          `endpoints ${JSON.stringify(body)}`,
        );
      }),
      { numRuns: RUNS },
    );
    await expectNothingMoved(system, before);
    expect(await webhookEndpoints()).toBe(0);
  });

  it("arbitrary Idempotency-Key, Content-Type and Authorization headers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MONEY_ROUTES),
        fc.record(
          {
            "idempotency-key": headerValue,
            "content-type": fc.oneof(headerValue, fc.constantFrom("application/json; charset=latin1")),
            authorization: fc.oneof(
              headerValue,
              headerValue.map((v) => `Bearer ${v}`),
            ),
          },
          { requiredKeys: [] },
        ),
        async (route, headers) => {
          const validKey = /^[\x20-\x7e]{1,255}$/.test(headers["idempotency-key"] ?? "");
          const validType = /^application\/json\s*(;|$)/i.test(headers["content-type"] ?? "application/json");
          const ownAuth = headers.authorization === undefined;
          // A valid key, type and authorization would make a valid request: not bad input.
          fc.pre(!(validKey && validType && ownAuth && !headers["content-type"]?.includes("latin1")));
          const r = await api.request("POST", route, {
            rawBody: JSON.stringify({ walletId: wallet, amount: 1 }),
            headers: { "content-type": "application/json", ...headers },
          });
          expectCleanRefusal(r, `${route} ${JSON.stringify(headers)}`);
        },
      ),
      { numRuns: RUNS },
    );
    await expectNothingMoved(system, before);
  });

  it("GET routes with arbitrary ids and query strings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          pathId.map((id) => `/v1/wallets/${id}`),
          pathId.map((id) => `/v1/wallets/${id}/entries`),
          pathId.map((id) => `/v1/wallets/${id}/balance?at=2026-01-01T00:00:00Z`),
          fc
            .string()
            .filter((at) => !/^\d{4}-\d\d-\d\dT/.test(at))
            .map((at) => `/v1/wallets/${wallet}/balance?at=${encodeURIComponent(at)}`),
          pathId.map((id) => `/v1/operations/${id}`),
          pathId.map((id) => `/v1/webhook-endpoints/${id}/deliveries`),
          invalidPageQuery.map((q) => `/v1/webhook-endpoints?${queryString(q)}`),
          invalidPageQuery.map((q) => `/v1/wallets?${queryString(q)}`),
          invalidOperationsQuery.map((q) => `/v1/operations?${queryString(q)}`),
          invalidPageQuery.map((q) => `/v1/wallets/${wallet}/entries?${queryString(q)}`),
          query
            .filter((q) => q.wait !== undefined && !/^(?:[0-9]|[12]\d|30)$/.test(q.wait))
            .map((q) => `/v1/operations/${wallet}?${queryString(q)}`),
        ),
        async (path) => {
          expectCleanRefusal(await api.get(path), `GET ${path.slice(0, 200)}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
    await expectNothingMoved(system, before);
  });

  it("DELETE /v1/webhook-endpoints/:id with arbitrary ids", async () => {
    await fc.assert(
      fc.asyncProperty(pathId, async (id) => {
        const r = await api.request("DELETE", `/v1/webhook-endpoints/${id}`);
        expectCleanRefusal(r, `DELETE ${id.slice(0, 200)}`);
      }),
      { numRuns: RUNS },
    );
    await expectNothingMoved(system, before);
  });
});

/** Webhook endpoints in the database (none may be created by bad input). */
async function webhookEndpoints(): Promise<number> {
  const r = await system.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_endpoints`);
  return r.rows[0]?.n ?? -1;
}

/** Whether `text` is a body the route accepts: empty means `{}`, and a leading BOM is ignored. */
function isValidJson(text: string, schema: { safeParse(v: unknown): { success: boolean } }): boolean {
  const json = text.replace(/^\uFEFF/, "");
  try {
    return schema.safeParse(json.trim() === "" ? {} : JSON.parse(json)).success;
  } catch {
    return false;
  }
}
