import { describe, expect, it } from "vitest";
import { createOpenApiDocument } from "../../api/openapi/openapi-document.ts";
import { routeRegistry } from "../../api/openapi/route-registry.ts";

/**
 * What generators read from the document (no server needed: the api serves this same object):
 * operation names, integer widths and bounds, the limits the server enforces, response headers.
 */

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
type Json = any;
const doc: Json = JSON.parse(JSON.stringify(createOpenApiDocument()));

const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
  Object.entries(item as Json).map(([method, op]) => ({
    key: `${method.toUpperCase()} ${path}`,
    op: op as Json,
  })),
);

/** Follows a `$ref` into the document. */
const resolve = (node: Json): Json =>
  node?.$ref
    ? resolve(
        (node.$ref as string)
          .slice(2)
          .split("/")
          .reduce((n: Json, k: string) => n?.[k.replace("~1", "/")], doc),
      )
    : node;

describe("operation names", () => {
  it("every operation has a stable operationId, named as a person would call it", () => {
    expect(Object.fromEntries(operations.map(({ key, op }) => [key, op.operationId]))).toEqual({
      "GET /healthz": "getLiveness",
      "GET /readyz": "getReadiness",
      "GET /metrics": "getMetrics",
      "GET /openapi.json": "getOpenApiDocument",
      "GET /docs": "getDocsPage",
      "GET /docs/api-reference.js": "getDocsScript",
      "POST /v1/clients": "createClient",
      "POST /v1/wallets": "createWallet",
      "GET /v1/wallets": "listWallets",
      "GET /v1/wallets/{id}": "getWallet",
      "GET /v1/wallets/{id}/entries": "listWalletEntries",
      "GET /v1/wallets/{id}/balance": "getWalletBalance",
      "POST /v1/top-ups": "createTopUp",
      "POST /v1/transfers": "createTransfer",
      "POST /v1/payouts": "createPayout",
      "POST /v1/holds": "createHold",
      "POST /v1/holds/{id}/capture": "captureHold",
      "POST /v1/holds/{id}/void": "voidHold",
      "POST /v1/refunds": "createRefund",
      "POST /v1/operations/bulk": "submitOperations",
      "GET /v1/operations": "listOperations",
      "GET /v1/operations/{id}": "getOperation",
      "POST /v1/webhook-endpoints": "createWebhookEndpoint",
      "GET /v1/webhook-endpoints": "listWebhookEndpoints",
      "DELETE /v1/webhook-endpoints/{id}": "deleteWebhookEndpoint",
      "GET /v1/webhook-endpoints/{id}/deliveries": "listWebhookDeliveries",
    });
    expect(operations).toHaveLength(Object.keys(routeRegistry).length);
  });

  it("every tag an operation uses is declared, and servers are given", () => {
    const declared = (doc.tags as Json[]).map((t) => t.name).sort();
    expect([...new Set(operations.flatMap(({ op }) => op.tags))].sort()).toEqual(declared);
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
  });
});

describe("integers", () => {
  const integers: [string, Json][] = [];
  const walk = (node: Json, at: string) => {
    if (!node || typeof node !== "object") return;
    const type = node.type;
    if (type === "integer" || (Array.isArray(type) && type.includes("integer"))) integers.push([at, node]);
    for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
  };
  walk(doc, "#");

  it("each has a format and both bounds; money and counts are int64 up to 2^53-1", () => {
    expect(integers.length).toBeGreaterThan(10);
    for (const [at, s] of integers) {
      expect(["int32", "int64"], at).toContain(s.format);
      expect(typeof s.minimum, `${at} minimum`).toBe("number");
      expect(typeof s.maximum, `${at} maximum`).toBe("number");
      if (s.format === "int32") expect(s.maximum, at).toBeLessThan(2 ** 31);
    }
    const wallet = doc.components.schemas.Wallet.properties;
    for (const s of [wallet.balance, wallet.version, doc.components.schemas.Operation.properties.amount]) {
      expect(s).toMatchObject({ type: "integer", format: "int64", maximum: Number.MAX_SAFE_INTEGER });
    }
    expect(doc.components.schemas.Entry.properties.amount.minimum).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it("limit and wait are integers with their bounds and defaults (the server still parses decimal text only)", () => {
    const param = (path: string, name: string) =>
      (doc.paths[path].get.parameters as Json[]).map(resolve).find((p) => p.name === name)?.schema;
    for (const path of [
      "/v1/wallets",
      "/v1/wallets/{id}/entries",
      "/v1/operations",
      "/v1/webhook-endpoints",
    ]) {
      expect(param(path, "limit")).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 20 });
      expect(param(path, "limit").pattern).toBeUndefined();
    }
    expect(param("/v1/operations/{id}", "wait")).toMatchObject({
      type: "integer",
      minimum: 0,
      maximum: 30,
      default: 0,
    });
  });
});

describe("the limits the server enforces, as keywords", () => {
  const schemas = doc.components.schemas;

  it("metadata: at most 50 keys of 1..40 characters, values of at most 500", () => {
    const bodies = ["/v1/wallets", "/v1/top-ups", "/v1/transfers"].map(
      (p) => doc.paths[p].post.requestBody.content["application/json"].schema.properties.metadata,
    );
    for (const metadata of [
      ...bodies,
      schemas.Wallet.properties.metadata,
      schemas.Operation.properties.metadata,
    ]) {
      expect(metadata).toMatchObject({
        type: "object",
        maxProperties: 50,
        propertyNames: { minLength: 1, maxLength: 40 },
        additionalProperties: { type: "string", maxLength: 500 },
      });
    }
  });

  it("arrays have maxItems: pages (100), event lists (2, distinct)", () => {
    for (const page of [
      "WalletPage",
      "OperationPage",
      "EntryPage",
      "WebhookEndpointPage",
      "WebhookDeliveryPage",
    ]) {
      expect(schemas[page].properties.data.maxItems, page).toBe(100);
    }
    const events =
      doc.paths["/v1/webhook-endpoints"].post.requestBody.content["application/json"].schema.properties
        .events;
    expect(events).toMatchObject({ minItems: 1, maxItems: 2, uniqueItems: true });
    expect(schemas.WebhookEndpoint.properties.events).toMatchObject({ maxItems: 2, uniqueItems: true });
  });

  it("the Idempotency-Key is 1..255 characters, the X-Request-Id at most 200", () => {
    expect(doc.components.parameters.IdempotencyKey.schema).toMatchObject({ minLength: 1, maxLength: 255 });
    expect(doc.components.headers["X-Request-Id"].schema).toMatchObject({ maxLength: 200 });
  });
});

describe("response headers", () => {
  it("every answer declares X-Request-Id; every /v1 answer but a 401 RateLimit and RateLimit-Policy", () => {
    for (const { key, op } of operations) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const headers = resolve(response).headers ?? {};
        expect(headers, `${key} ${status}`).toHaveProperty(["X-Request-Id"]);
        // A key that matches no client counts against no client's quota.
        const counted = key.includes(" /v1/") && status !== "401";
        expect("RateLimit" in headers, `${key} ${status}`).toBe(counted);
        expect("RateLimit-Policy" in headers, `${key} ${status}`).toBe(counted);
        if (status === "429" || (status === "503" && key.includes(" /v1/"))) {
          expect(headers, `${key} ${status}`).toHaveProperty(["Retry-After"]);
        }
      }
    }
  });

  it("a 202 declares Location and Idempotent-Replayed", () => {
    for (const { key, op } of operations.filter(({ op }) => op.responses["202"])) {
      expect(Object.keys(op.responses["202"].headers), key).toEqual(
        expect.arrayContaining(["Location", "Idempotent-Replayed"]),
      );
    }
  });
});
