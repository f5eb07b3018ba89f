import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenApiDocument, openApiPath } from "../../api/openapi/openapi-document.ts";
import { OPERATION_CATALOG, OPERATION_TYPES, sqlTypeList } from "../../shared/operation-types/catalog.ts";
import { expressRoutes } from "../helpers/express-routes.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * The catalog of operation types (shared/operation-types/catalog.ts) is the one list: every list
 * derived from it, or kept beside it by hand (the migrations' CHECKs, the SDK), must agree.
 */

let system: TestSystem;
beforeAll(async () => {
  system = await startSystem({ partitions: 2 });
});
afterAll(async () => system?.stop());

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON
type Json = any;
const document = createOpenApiDocument() as Json;
const quoted = (text: string) => [...text.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();

describe("the catalog of operation types", () => {
  it("lists each type, path and operationId once", () => {
    for (const key of ["type", "path"] as const) {
      expect(new Set(OPERATION_CATALOG.map((t) => t[key])).size).toBe(OPERATION_CATALOG.length);
    }
    expect(new Set(OPERATION_CATALOG.map((t) => t.docs.operationId)).size).toBe(OPERATION_CATALOG.length);
    expect(OPERATION_TYPES).toEqual(OPERATION_CATALOG.map((t) => t.type));
  });

  it("the api serves the POST of every type, and no other money route", () => {
    const served = expressRoutes(system.app).filter((r) => r.startsWith("POST /v1/"));
    const others = [
      "POST /v1/clients",
      "POST /v1/wallets",
      "POST /v1/operations/bulk",
      "POST /v1/webhook-endpoints",
    ];
    expect(served.filter((r) => !others.includes(r)).sort()).toEqual(
      OPERATION_CATALOG.map((t) => `POST /v1${t.path}`).sort(),
    );
  });

  it("the OpenAPI document has every type: its POST, its bulk item, the list filter and the resource's enum", () => {
    for (const t of OPERATION_CATALOG) {
      expect(document.paths[openApiPath(`/v1${t.path}`)]?.post?.operationId, t.type).toBe(t.docs.operationId);
    }
    const schemas = document.components.schemas as Json;
    expect(schemas.Operation.properties.type.enum).toEqual(OPERATION_TYPES);
    const list = document.paths["/v1/operations"].get.parameters.find((p: Json) => p.name === "type");
    expect(list.schema.enum).toEqual(OPERATION_TYPES);
    const bulk = document.paths["/v1/operations/bulk"].post.requestBody.content["application/json"].schema;
    const items = JSON.stringify(bulk);
    const itemTypes = [...items.matchAll(/"type":\{"type":"string","const":"([a-z_]+)"\}/g)].map((m) => m[1]);
    expect(itemTypes.sort()).toEqual([...OPERATION_TYPES].sort());
  });

  it("the database's CHECKs list exactly the catalog's types, and its refundable ones", async () => {
    const checks = await system.db.execute<{ name: string; def: string }>(sql`
      SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = 'operations'::regclass AND conname IN ('operations_type_valid', 'operations_refunded_within_amount')
      ORDER BY conname`);
    const [refunded, types] = checks.rows;
    expect(quoted(types?.def ?? "")).toEqual([...OPERATION_TYPES].sort());
    expect(quoted(refunded?.def ?? "")).toEqual(quoted(sqlTypeList((l) => l.refundable)));
  });

  it("the SDK calls the POST of every type", () => {
    const dir = "sdk/src/resources";
    const source = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .join("\n");
    for (const t of OPERATION_CATALOG) {
      const path = `/v1${t.path}`.replace(/[/]/g, "\\/").replace(":id", "\\$\\{[^}]+\\}");
      expect(source, `the SDK's call of POST /v1${t.path}`).toMatch(new RegExp(`["\`]${path}["\`]`));
    }
  });
});
