import { randomUUID } from "node:crypto";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeRegistry } from "../../api/openapi/route-registry.ts";
import { expressRoutes } from "../helpers/express-routes.ts";
import { Api, newClient, newWallet } from "../helpers/http.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON
type Json = any;

let system: TestSystem;
let doc: Json;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  const r = await fetch(`${system.baseUrl}/openapi.json`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  doc = await r.json();
});
afterAll(async () => system?.stop());

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every route Express serves, and only those", () => {
    expect(Object.keys(routeRegistry).sort()).toEqual(expressRoutes(system.app));
    const documented = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
      Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
    );
    expect(documented.sort()).toEqual(expressRoutes(system.app));
  });

  it("declares every error of every route as application/problem+json", () => {
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        for (const [status, ref] of Object.entries((op as Json).responses)) {
          if (Number(status) < 400) continue;
          const response = resolve(ref);
          expect(Object.keys(response.content), `${method} ${path} ${status}`).toEqual([
            "application/problem+json",
          ]);
        }
      }
    }
  });

  it("requires the Idempotency-Key header on top-ups and transfers, and declares the bearer schemes", () => {
    for (const path of ["/v1/top-ups", "/v1/transfers"]) {
      const params = (doc.paths[path].post.parameters as Json[]).map(resolve);
      expect(params).toContainEqual(
        expect.objectContaining({ in: "header", name: "Idempotency-Key", required: true }),
      );
      const accepted = doc.paths[path].post.responses["202"];
      expect(accepted.headers.Location.required).toBe(true);
      expect(accepted.headers["Idempotent-Replayed"]).toBeDefined();
      expect(resolve(doc.paths[path].post.responses["503"]).headers["Retry-After"]).toBeDefined();
      expect(resolve(doc.paths[path].post.responses["429"]).headers["Retry-After"]).toBeDefined();
      expect(resolve(doc.paths[path].post.responses["429"]).headers.RateLimit).toBeDefined();
    }
    expect(doc.components.securitySchemes.clientKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/v1/wallets"].get.security).toEqual([{ clientKey: [] }]);
    expect(doc.paths["/v1/clients"].post.security).toEqual([{ operatorToken: [] }]);
    for (const name of ["Wallet", "Operation", "Entry", "CreatedClient", "WalletPage", "Problem"]) {
      expect(doc.components.schemas).toHaveProperty(name);
    }
  });
});

/** Follows a `$ref` into the document. */
function resolve(node: Json): Json {
  if (!node?.$ref) return node;
  const target = (node.$ref as string)
    .replace(/^#\//, "")
    .split("/")
    .reduce((n: Json, key: string) => n?.[key], doc);
  return resolve(target);
}

describe("query values the server takes match the document", () => {
  it("balance?at= in every form the server reads (lower-case t and z included) is a valid date-time", async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const at = doc.paths["/v1/wallets/{id}/balance"].get.parameters.find((p: Json) => p.name === "at");
    const valid = ajv.compile(at.schema);
    for (const v of ["2026-12-07T15:00:00Z", "2026-12-07t15:00:00z", "2026-12-07T15:00:00.5+01:00"]) {
      expect(valid(v), v).toBe(true);
    }
    for (const v of ["2026-12-07", "2026-12-07T15:00:00", "yesterday"]) expect(valid(v), v).toBe(false);
  });
});

describe("real answers match the document", () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // The integer formats the document declares (ajv-formats has none): the value fits the width.
  const fits = (bits: number) => (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** (bits - 1);
  ajv.addFormat("int32", { type: "number", validate: fits(32) });
  ajv.addFormat("int64", { type: "number", validate: fits(64) });
  const seen = new Set<string>();

  /** Checks one real answer against the declared response of its route and status. */
  async function check(method: string, route: string, r: Response): Promise<Json> {
    const op = doc.paths[route.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
    expect(op, `${method} ${route} is documented`).toBeDefined();
    const declared = op.responses[String(r.status)];
    expect(declared, `${method} ${route} documents status ${r.status}`).toBeDefined();
    const response = resolve(declared);
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if (resolve(header).required)
        expect(r.headers.get(name), `${method} ${route} ${r.status} ${name}`).not.toBeNull();
    }
    if (r.status === 204) {
      expect(response.content, `${method} ${route} 204 declares no body`).toBeUndefined();
      expect(await r.text()).toBe("");
      seen.add(`${method} ${route}`);
      return undefined;
    }
    const mediaType = (r.headers.get("content-type") ?? "").split(";")[0] ?? "";
    const media = response.content?.[mediaType];
    expect(media, `${method} ${route} ${r.status} declares ${mediaType}`).toBeDefined();
    const text = await r.text();
    const body = mediaType.endsWith("json") ? JSON.parse(text) : text;
    const validate = ajv.compile({ ...media.schema, components: doc.components });
    expect(validate(body) ? [] : validate.errors, `${method} ${route} ${r.status} body`).toEqual([]);
    seen.add(`${method} ${route}`);
    return body;
  }

  const call = async (
    key: string | undefined,
    method: string,
    route: string,
    path: string,
    opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Json> => {
    const headers: Record<string, string> = {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...opts.headers,
    };
    if (opts.body !== undefined) headers["content-type"] ??= "application/json";
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const r = await fetch(`${system.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    return { status: r.status, body: await check(method, route, r) };
  };

  it("in a short flow: client, wallets, top-up, transfer, wait, lists, entries, a few errors", async () => {
    const created = await call(ADMIN_TOKEN, "POST", "/v1/clients", "/v1/clients", { body: { name: "docs" } });
    expect(created.status).toBe(201);
    const key = created.body.apiKey as string;
    const a = await call(key, "POST", "/v1/wallets", "/v1/wallets", { body: { metadata: { owner: "ann" } } });
    const b = await call(key, "POST", "/v1/wallets", "/v1/wallets", { body: {} });
    const eur = await call(key, "POST", "/v1/wallets", "/v1/wallets", { body: { currency: "EUR" } });
    const A = a.body.id;
    const B = b.body.id;

    const topUp = { walletId: A, amount: 5_000 };
    const t1 = await call(key, "POST", "/v1/top-ups", "/v1/top-ups", {
      body: topUp,
      headers: { "idempotency-key": "t1" },
    });
    expect(t1.status).toBe(202);
    await call(key, "POST", "/v1/top-ups", "/v1/top-ups", {
      body: topUp,
      headers: { "idempotency-key": "t1" },
    });
    const tr = await call(key, "POST", "/v1/transfers", "/v1/transfers", {
      body: { fromWalletId: A, toWalletId: B, amount: 1_200, metadata: { ref: "x" } },
      headers: { "idempotency-key": "tr1" },
    });
    const done = await call(key, "GET", "/v1/operations/:id", `/v1/operations/${tr.body.id}?wait=10`);
    expect(done.body.status).toBe("succeeded");
    const broke = await call(key, "POST", "/v1/transfers", "/v1/transfers", {
      body: { fromWalletId: B, toWalletId: A, amount: 999_999 },
      headers: { "idempotency-key": "tr2" },
    });
    const failed = await call(key, "GET", "/v1/operations/:id", `/v1/operations/${broke.body.id}?wait=10`);
    expect(failed.body.failure.code).toBe("insufficient_funds");

    await call(key, "GET", "/v1/operations", "/v1/operations");
    await call(key, "GET", "/v1/operations", `/v1/operations?walletId=${A}&status=succeeded&limit=1`);
    const page = await call(key, "GET", "/v1/wallets", "/v1/wallets?limit=2");
    expect(page.body.nextCursor).not.toBeNull();
    await call(key, "GET", "/v1/wallets", `/v1/wallets?cursor=${page.body.nextCursor}`);
    await call(key, "GET", "/v1/wallets/:id", `/v1/wallets/${A}`);
    const entries = await call(key, "GET", "/v1/wallets/:id/entries", `/v1/wallets/${A}/entries`);
    expect(entries.body.data.map((e: Json) => e.amount)).toEqual([-1_200, 5_000]);
    const now = new Date().toISOString();
    const at = await call(key, "GET", "/v1/wallets/:id/balance", `/v1/wallets/${A}/balance?at=${now}`);
    expect(at.body).toMatchObject({ balance: 3_800, version: 2 });

    // Payouts and holds: a hold captured in part, one voided, a capture above the hold (422).
    const payout = await call(key, "POST", "/v1/payouts", "/v1/payouts", {
      body: { walletId: A, amount: 300 },
      headers: { "idempotency-key": "p1" },
    });
    expect(payout.body.toWalletId).toBeNull();
    const holdReq = (k: string) => ({
      body: { fromWalletId: A, toWalletId: B, amount: 1_000, expiresInSeconds: 3_600 },
      headers: { "idempotency-key": k },
    });
    const hold = await call(key, "POST", "/v1/holds", "/v1/holds", holdReq("h1"));
    const placed = await call(key, "GET", "/v1/operations/:id", `/v1/operations/${hold.body.id}?wait=10`);
    expect(placed.body.hold).toMatchObject({ status: "active", capturedAmount: null });
    const capturePath = "/v1/holds/:id/capture";
    const over = { body: { amount: 1_001 }, headers: { "idempotency-key": "c0" } };
    expect((await call(key, "POST", capturePath, `/v1/holds/${hold.body.id}/capture`, over)).status).toBe(
      422,
    );
    const capture = await call(key, "POST", capturePath, `/v1/holds/${hold.body.id}/capture`, {
      body: { amount: 400 },
      headers: { "idempotency-key": "c1" },
    });
    await call(key, "GET", "/v1/operations/:id", `/v1/operations/${capture.body.id}?wait=10`);
    const hold2 = await call(key, "POST", "/v1/holds", "/v1/holds", holdReq("h2"));
    const voided = await call(key, "POST", "/v1/holds/:id/void", `/v1/holds/${hold2.body.id}/void`, {
      body: {},
      headers: { "idempotency-key": "v1" },
    });
    await call(key, "GET", "/v1/operations/:id", `/v1/operations/${voided.body.id}?wait=10`);
    const captured = await call(key, "GET", "/v1/operations/:id", `/v1/operations/${hold.body.id}`);
    expect(captured.body.hold).toMatchObject({ status: "captured", capturedAmount: 400 });
    // A refund of part of the capture (B back to A), and one of an unknown operation (404).
    const refund = await call(key, "POST", "/v1/refunds", "/v1/refunds", {
      body: { operationId: capture.body.id, amount: 100 },
      headers: { "idempotency-key": "r1" },
    });
    const refunded = await call(key, "GET", "/v1/operations/:id", `/v1/operations/${refund.body.id}?wait=10`);
    expect(refunded.body).toMatchObject({ status: "succeeded", refundOf: capture.body.id });
    const original = await call(key, "GET", "/v1/operations/:id", `/v1/operations/${capture.body.id}`);
    expect(original.body.refundedAmount).toBe(100);
    const unknownOriginal = { body: { operationId: randomUUID() }, headers: { "idempotency-key": "r2" } };
    expect((await call(key, "POST", "/v1/refunds", "/v1/refunds", unknownOriginal)).status).toBe(404);
    const unknownHold = { body: {}, headers: { "idempotency-key": "v2" } };
    const missing = await call(
      key,
      "POST",
      "/v1/holds/:id/void",
      `/v1/holds/${randomUUID()}/void`,
      unknownHold,
    );
    expect(missing.status).toBe(404);
    await call(key, "GET", "/v1/operations", "/v1/operations?type=hold");
    const bulk = await call(key, "POST", "/v1/operations/bulk", "/v1/operations/bulk", {
      body: {
        operations: [
          { type: "top_up", idempotencyKey: "bulk-1", walletId: A, amount: 10 },
          { type: "transfer", idempotencyKey: "bulk-2", fromWalletId: A, toWalletId: A, amount: 1 },
          { type: "void", idempotencyKey: "bulk-3", holdId: randomUUID() },
        ],
      },
    });
    expect(bulk.body.data.map((x: Json) => x.status)).toEqual([202, 400, 404]);
    await call(key, "GET", "/v1/operations/:id", `/v1/operations/${bulk.body.data[0].operation.id}?wait=10`);
    expect((await call(key, "GET", "/v1/wallets/:id", `/v1/wallets/${A}`)).body).toMatchObject({
      balance: 3_210,
      heldBalance: 0,
      availableBalance: 3_210,
    });

    // Errors.
    expect((await call(undefined, "GET", "/v1/wallets", "/v1/wallets")).status).toBe(401);
    expect((await call(ADMIN_TOKEN, "GET", "/v1/wallets", "/v1/wallets")).status).toBe(403);
    expect((await call(key, "GET", "/v1/wallets", "/v1/wallets?limit=0")).status).toBe(400);
    expect((await call(key, "GET", "/v1/wallets/:id", `/v1/wallets/${randomUUID()}`)).status).toBe(404);
    expect((await call(key, "GET", "/v1/operations/:id", `/v1/operations/${randomUUID()}`)).status).toBe(404);
    expect((await call(key, "POST", "/v1/top-ups", "/v1/top-ups", { body: topUp })).status).toBe(400);
    const reused = { body: { ...topUp, amount: 1 }, headers: { "idempotency-key": "t1" } };
    expect((await call(key, "POST", "/v1/top-ups", "/v1/top-ups", reused)).status).toBe(422);
    const mismatch = {
      body: { fromWalletId: A, toWalletId: eur.body.id, amount: 1 },
      headers: { "idempotency-key": "m" },
    };
    expect((await call(key, "POST", "/v1/transfers", "/v1/transfers", mismatch)).status).toBe(422);
    const text = { raw: "name=x", headers: { "content-type": "text/plain" } };
    expect((await call(ADMIN_TOKEN, "POST", "/v1/clients", "/v1/clients", text)).status).toBe(415);
    const big = {
      raw: JSON.stringify({ name: "x".repeat(70_000) }),
      headers: { "content-type": "application/json" },
    };
    expect((await call(ADMIN_TOKEN, "POST", "/v1/clients", "/v1/clients", big)).status).toBe(413);

    // Webhook endpoints: a public address literal (no DNS needed); nothing has to answer there.
    const hooks = "/v1/webhook-endpoints";
    const hook = await call(key, "POST", hooks, hooks, {
      body: { url: "https://93.184.215.14/hooks", events: ["operation.failed"] },
    });
    expect(hook.status).toBe(201);
    expect(hook.body.secret).toMatch(/^whsec_/);
    expect((await call(key, "GET", hooks, hooks)).body.data).toHaveLength(1);
    const deliveries = `${hooks}/:id/deliveries`;
    await call(key, "GET", deliveries, `${hooks}/${hook.body.id}/deliveries`);
    expect((await call(key, "GET", deliveries, `${hooks}/${randomUUID()}/deliveries`)).status).toBe(404);
    expect((await call(key, "POST", hooks, hooks, { body: { url: "http://127.0.0.1/x" } })).status).toBe(400);
    expect((await call(key, "DELETE", `${hooks}/:id`, `${hooks}/${hook.body.id}`)).status).toBe(204);
    expect((await call(key, "DELETE", `${hooks}/:id`, `${hooks}/${hook.body.id}`)).status).toBe(404);

    // The operations endpoints.
    for (const path of [
      "/healthz",
      "/readyz",
      "/metrics",
      "/openapi.json",
      "/docs",
      "/docs/api-reference.js",
    ]) {
      expect((await call(undefined, "GET", path, path)).status).toBe(200);
    }
    // Every documented route was exercised by this flow.
    expect([...seen].sort()).toEqual(Object.keys(routeRegistry).sort());
  });

  it("a replay says so; a 202 points at its operation", async () => {
    const api = await newClient(system, "replay");
    const wallet = await newWallet(api);
    const first = await new Api(system, api.key).topUp(wallet, 10, "k");
    const again = await new Api(system, api.key).topUp(wallet, 10, "k");
    expect(first.headers.get("location")).toBe(`/v1/operations/${first.body.id}`);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });
});
