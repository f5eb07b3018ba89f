import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "../helpers/http.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let admin: Api;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const API_KEY = /^sk_[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url without padding

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  admin = new Api(system, ADMIN_TOKEN);
});
afterAll(async () => system?.stop());

/** An ISO 8601 UTC timestamp that parses back to itself. */
const expectIsoUtc = (s: unknown) => {
  expect(s).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  expect(new Date(s as string).toISOString()).toBe(s);
};

describe("POST /v1/clients", () => {
  it("creates a client and shows its API key once: { id, name, apiKey, createdAt }", async () => {
    const r = await admin.post("/v1/clients", { name: "Acme Corp" });
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(r.body).sort()).toEqual(["apiKey", "createdAt", "id", "name"]);
    expect(r.body.id).toMatch(UUID_V7);
    expect(r.body.name).toBe("Acme Corp");
    expect(r.body.apiKey).toMatch(API_KEY);
    expectIsoUtc(r.body.createdAt);
  });

  it("stores only the key's SHA-256 and a short display prefix, never the key", async () => {
    const r = await admin.post("/v1/clients", { name: "hashing" });
    expect(r.status).toBe(201);
    const key: string = r.body.apiKey;
    const rows = await system.db.execute<Record<string, unknown>>(
      sql`SELECT * FROM clients WHERE id = ${r.body.id}`,
    );
    expect(rows.rows).toHaveLength(1);
    const row = rows.rows[0] as Record<string, unknown>;
    expect(row.api_key_hash).toBe(createHash("sha256").update(key).digest("hex"));
    const prefix = String(row.api_key_prefix);
    expect(key.startsWith(prefix)).toBe(true);
    expect(prefix.length).toBeLessThan(12);
    // The secret part of the key is in no column.
    expect(JSON.stringify(row)).not.toContain(key.slice(prefix.length));
  });

  it("the new key authenticates as that client and sees none of its wallets yet", async () => {
    const r = await admin.post("/v1/clients", { name: "fresh" });
    const client = new Api(system, r.body.apiKey);
    const list = await client.get("/v1/wallets");
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ data: [], nextCursor: null });
    const wallet = await client.post("/v1/wallets", {});
    expect(wallet.status).toBe(201);
    expect(wallet.body.clientId).toBe(r.body.id);
  });

  it("gives every client its own id and key, even under the same name", async () => {
    const a = await admin.post("/v1/clients", { name: "twin" });
    const b = await admin.post("/v1/clients", { name: "twin" });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(a.body.apiKey).not.toBe(b.body.apiKey);
    const wa = await new Api(system, a.body.apiKey).post("/v1/wallets", {});
    const listB = await new Api(system, b.body.apiKey).get("/v1/wallets");
    expect(listB.body.data.map((w: { id: string }) => w.id)).not.toContain(wa.body.id);
  });

  it.each([
    ["one character", "x"],
    ["200 characters", "n".repeat(200)],
    ["non-ASCII text", "Zürich Café — 東京 🚀"],
  ])("accepts a name of %s and returns it unchanged", async (_, name) => {
    const r = await admin.post("/v1/clients", { name });
    expect(r.status).toBe(201);
    expect(r.body.name).toBe(name);
    const row = await system.db.execute<{ name: string }>(
      sql`SELECT name FROM clients WHERE id = ${r.body.id}`,
    );
    expect(row.rows[0]?.name).toBe(name);
  });

  it("echoes the caller's X-Request-Id, and generates one otherwise", async () => {
    const echoed = await admin.post("/v1/clients", { name: "traced" }, { "x-request-id": "req-clients-42" });
    expect(echoed.status).toBe(201);
    expect(echoed.headers.get("x-request-id")).toBe("req-clients-42");
    const generated = await admin.post("/v1/clients", { name: "untraced" });
    expect(generated.headers.get("x-request-id")).toMatch(/^\S{8,}$/);
    expect(generated.headers.get("x-request-id")).not.toBe("req-clients-42");
  });
});
