import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, walkPages } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api & { clientId: string };

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

interface Entry {
  id: string;
  operationId: string;
  walletId: string;
  amount: number;
  balanceAfter: number;
  createdAt: string;
}

/** n code points, each outside the BMP (two UTF-16 units, four UTF-8 bytes). */
const emoji = (n: number) => "😀".repeat(n);

describe("POST /v1/wallets", () => {
  it("creates a USD wallet by default: { id, clientId, currency, balance, heldBalance, availableBalance, version, metadata, createdAt, updatedAt }", async () => {
    const r = await api.post("/v1/wallets", {});
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.body).toStrictEqual({
      id: expect.stringMatching(UUID_V7),
      clientId: api.clientId,
      currency: "USD",
      balance: 0,
      heldBalance: 0,
      availableBalance: 0,
      version: 0,
      metadata: {},
      createdAt: expect.stringMatching(ISO_UTC),
      updatedAt: expect.stringMatching(ISO_UTC),
    });
    expect(r.body.updatedAt).toBe(r.body.createdAt);
    const read = await api.get(`/v1/wallets/${r.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toStrictEqual(r.body);
  });

  it("accepts an empty JSON body as all defaults", async () => {
    const r = await api.request("POST", "/v1/wallets", { headers: { "content-type": "application/json" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ currency: "USD", balance: 0, version: 0, metadata: {} });
  });

  it("creates a wallet in another ISO 4217 currency with metadata", async () => {
    const r = await api.post("/v1/wallets", { currency: "EUR", metadata: { owner: "alice", team: "ops" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ currency: "EUR", balance: 0, version: 0 });
    expect(r.body.metadata).toEqual({ owner: "alice", team: "ops" });
    expect((await api.get(`/v1/wallets/${r.body.id}`)).body.currency).toBe("EUR");
  });

  it("returns the same metadata keys and values; key order is not part of the contract", async () => {
    const metadata = { zeta: "last", alpha: "first", "key with spaces": "", ключ: "значение" };
    const id = await newWallet(api, { metadata });
    const read = await api.get(`/v1/wallets/${id}`);
    expect(read.body.metadata).toEqual(metadata);
    expect(Object.keys(read.body.metadata).sort()).toEqual(Object.keys(metadata).sort());
  });

  it("accepts metadata at every limit: 50 keys of 40 code points, values of 500 code points", async () => {
    const metadata: Record<string, string> = {};
    // Counted in code points: the emoji value is 1,000 UTF-16 units. (Fifty 500-emoji values
    // would not fit the 64 KiB body; two-byte "é" keeps the body under it.)
    for (let i = 0; i < 50; i++) {
      metadata[`${String(i).padStart(2, "0")}${emoji(38)}`] = i === 0 ? emoji(500) : "é".repeat(500);
    }
    for (const k of Object.keys(metadata)) expect([...k]).toHaveLength(40);
    const r = await api.post("/v1/wallets", { metadata });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toEqual(metadata);
    expect((await api.get(`/v1/wallets/${r.body.id}`)).body.metadata).toEqual(metadata);
  });
});

describe("GET /v1/wallets", () => {
  it("lists only the caller's wallets, newest first, a page of `limit` at a time, each exactly once", async () => {
    const owner = await newClient(system, "lister");
    const other = await newClient(system, "other");
    await newWallet(other);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push(await newWallet(owner, { metadata: { n: String(i) } }));

    const pages = await walkPages<{ id: string; clientId: string }>(owner, "/v1/wallets", 3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    const ids = pages.flat().map((w) => w.id);
    expect(ids).toEqual([...created].reverse());
    expect(new Set(ids).size).toBe(7);
    for (const w of pages.flat()) expect(w.clientId).toBe(owner.clientId);

    // A limit that divides the count exactly ends on a page with nextCursor null, not an empty page.
    expect((await walkPages(owner, "/v1/wallets", 7)).map((p) => p.length)).toEqual([7]);
  });

  it("pages 20 by default and allows up to 100", async () => {
    const owner = await newClient(system, "many");
    const created: string[] = [];
    for (let i = 0; i < 21; i++) created.push(await newWallet(owner));
    const first = await owner.get("/v1/wallets");
    expect(first.body.data).toHaveLength(20);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await owner.get(`/v1/wallets?cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: created[0] })], nextCursor: null });
    const all = await owner.get("/v1/wallets?limit=100");
    expect(all.body.data.map((w: { id: string }) => w.id)).toEqual([...created].reverse());
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.data[0]).toStrictEqual((await owner.get(`/v1/wallets/${created[20]}`)).body);
  });
});

describe("GET /v1/wallets/:id/entries", () => {
  it("lists a wallet's entries newest first; oldest to newest each balanceAfter is the previous plus amount", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    const stranger = await newClient(system, "payer");
    const s = await newWallet(stranger);
    await stranger.settle((await stranger.topUp(s, 500)).body.id);

    const ops: string[] = [];
    const run = async (r: Promise<{ status: number; body: { id: string } }>, by: Api = api) => {
      const accepted = await r;
      expect(accepted.status).toBe(202);
      expect((await by.settle(accepted.body.id)).status).toBe("succeeded");
      ops.push(accepted.body.id);
    };
    await run(api.topUp(a, 1_000));
    await run(api.transfer(a, b, 300));
    await run(stranger.transfer(s, a, 50), stranger);
    await run(api.topUp(a, 7));
    await run(api.transfer(a, b, 757));

    const wallet = (await api.get(`/v1/wallets/${a}`)).body;
    expect(wallet).toMatchObject({ balance: 0, version: 5 });
    expect(Date.parse(wallet.updatedAt)).toBeGreaterThanOrEqual(Date.parse(wallet.createdAt));

    const r = await api.get(`/v1/wallets/${a}/entries`);
    expect(r.status).toBe(200);
    expect(r.body.nextCursor).toBeNull();
    const entries: Entry[] = r.body.data;
    for (const e of entries) {
      expect(e).toStrictEqual({
        id: expect.stringMatching(UUID_V7),
        operationId: expect.stringMatching(UUID_V7),
        walletId: a,
        amount: expect.any(Number),
        balanceAfter: expect.any(Number),
        createdAt: expect.stringMatching(ISO_UTC),
      });
    }
    expect(entries.map((e) => [e.amount, e.balanceAfter])).toEqual([
      [-757, 0],
      [7, 757],
      [50, 750],
      [-300, 700],
      [1_000, 1_000],
    ]);
    expect(entries.map((e) => e.operationId)).toEqual([...ops].reverse());
    const oldestFirst = [...entries].reverse();
    oldestFirst.forEach((e, i) => {
      expect(e.balanceAfter).toBe((oldestFirst[i - 1]?.balanceAfter ?? 0) + e.amount);
    });
    expect(entries[0]?.balanceAfter).toBe(wallet.balance);
    expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(wallet.balance);

    // The incoming transfer's entry names the stranger's operation, which this reader cannot fetch.
    const incoming = entries.find((e) => e.amount === 50);
    expect((await api.get(`/v1/operations/${incoming?.operationId}`)).status).toBe(404);
    expect((await stranger.get(`/v1/operations/${incoming?.operationId}`)).status).toBe(200);

    const pages = await walkPages<Entry>(api, `/v1/wallets/${a}/entries`, 2);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(entries);
  });

  it("a new wallet has no entries", async () => {
    const w = await newWallet(api);
    expect((await api.get(`/v1/wallets/${w}/entries`)).body).toEqual({ data: [], nextCursor: null });
  });
});

describe("X-Request-Id", () => {
  it("is echoed when the caller sends one, on success and on error", async () => {
    const ok = await api.get("/v1/wallets", { "x-request-id": "trace-abc-123" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-request-id")).toBe("trace-abc-123");
    const missing = await api.get("/v1/wallets/01900000-0000-7000-8000-000000000000", {
      "x-request-id": "trace-def-456",
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-request-id")).toBe("trace-def-456");
    expect(missing.body.requestId).toBe("trace-def-456");
  });

  it("is echoed with spaces inside; one of over 200 characters or outside printable ASCII is replaced", async () => {
    const spaced = await api.get("/v1/wallets", { "x-request-id": "req 42 / retry 1" });
    expect(spaced.headers.get("x-request-id")).toBe("req 42 / retry 1");
    const longest = "r".repeat(200);
    expect((await api.get("/v1/wallets", { "x-request-id": longest })).headers.get("x-request-id")).toBe(
      longest,
    );
    for (const junk of ["r".repeat(201), "caf\u00e9", "a\tb"]) {
      const r = await api.request("GET", "/v1/wallets", { headers: { "x-request-id": junk } });
      expect(r.status).toBe(200);
      expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("is generated, fresh for every request, when the caller sends none", async () => {
    const one = await api.get("/v1/wallets");
    const two = await api.get("/v1/wallets");
    const a = one.headers.get("x-request-id");
    const b = two.headers.get("x-request-id");
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });
});
