import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectNothingMoved, type MoneySnapshot, moneySnapshot } from "../helpers/money.ts";
import { expectProblem, problemWithoutRequestId } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;
/** A wallet of `api` with two entries. */
let wallet: string;
let before: MoneySnapshot;

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
  wallet = await newWallet(api);
  const other = await newWallet(api);
  await api.settle((await api.topUp(wallet, 100)).body.id);
  await api.settle((await api.transfer(wallet, other, 40)).body.id);
  await waitAllSettled(system);
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  before = await moneySnapshot(system);
});

const rawPost = (body: string, contentType = "application/json") =>
  api.request("POST", "/v1/wallets", { rawBody: body, headers: { "content-type": contentType } });

const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));

describe("POST /v1/wallets: invalid bodies are 400 validation_error and create nothing", () => {
  it.each([
    ["a lower-case currency", { currency: "usd" }, "body.currency"],
    ["a two-letter currency", { currency: "US" }, "body.currency"],
    ["a four-letter currency", { currency: "USDT" }, "body.currency"],
    ["three letters that are not an ISO 4217 code", { currency: "ZZZ" }, "body.currency"],
    ["a numeric currency", { currency: 840 }, "body.currency"],
    ["a null currency", { currency: null }, "body.currency"],
    ["metadata of 51 keys", { metadata: manyKeys(51) }, "body.metadata"],
    ["metadata that is an array", { metadata: ["a"] }, "body.metadata"],
    ["metadata that is a string", { metadata: "a=b" }, "body.metadata"],
    ["metadata that is null", { metadata: null }, "body.metadata"],
    [
      "a metadata key of 41 characters",
      { metadata: { ["k".repeat(41)]: "v" } },
      `body.metadata.${"k".repeat(41)}`,
    ],
    [
      "a metadata key of 41 code points",
      { metadata: { ["😀".repeat(41)]: "v" } },
      `body.metadata.${"😀".repeat(41)}`,
    ],
    ["an empty metadata key", { metadata: { "": "v" } }, "body.metadata."],
    ["a metadata value of 501 characters", { metadata: { k: "v".repeat(501) } }, "body.metadata.k"],
    ["a metadata value of 501 code points", { metadata: { k: "😀".repeat(501) } }, "body.metadata.k"],
    ["a number as metadata value", { metadata: { k: 1 } }, "body.metadata.k"],
    ["a nested object as metadata value", { metadata: { k: { a: "b" } } }, "body.metadata.k"],
    ["a metadata value containing U+0000", { metadata: { k: "a\u0000b" } }, "body.metadata.k"],
    ["a metadata key containing U+0000", { metadata: { "a\u0000b": "v" } }, "body.metadata.a\u0000b"],
    ["an unknown field", { currency: "USD", balance: 1_000_000 }, "body"],
  ])("%s", async (_, body, path) => {
    expectProblem(await api.post("/v1/wallets", body), "validation_error", { paths: [path] });
    await expectNothingMoved(system, before);
  });

  it("reports every invalid field at once", async () => {
    const r = await api.post("/v1/wallets", { currency: "eur", metadata: { k: 5 } });
    expectProblem(r, "validation_error", { paths: ["body.currency", "body.metadata.k"] });
    await expectNothingMoved(system, before);
  });

  it("a metadata value with a lone surrogate (not well-formed Unicode)", async () => {
    expectProblem(await rawPost('{"metadata":{"k":"\\udc00"}}'), "validation_error", {
      paths: ["body.metadata.k"],
    });
    await expectNothingMoved(system, before);
  });

  it.each([
    ["malformed JSON", '{"currency": "USD"'],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
    ["a bare JSON string", '"USD"'],
  ])("%s", async (_, raw) => {
    expectProblem(await rawPost(raw), "validation_error");
    await expectNothingMoved(system, before);
  });

  it("a POST whose Content-Type is text/plain is 415 unsupported_media_type", async () => {
    expectProblem(await rawPost('{"currency":"USD"}', "text/plain"), "unsupported_media_type");
    await expectNothingMoved(system, before);
  });

  it("a body over 64 KiB is 413 payload_too_large", async () => {
    const body = JSON.stringify({ metadata: { k: "v" } });
    expectProblem(await rawPost(body + " ".repeat(64 * 1024 + 1 - body.length)), "payload_too_large");
    await expectNothingMoved(system, before);
  });
});

describe("reading a wallet that is not the caller's", () => {
  it("an unknown id, a malformed id and a funding account are all 404 wallet_not_found, alike", async () => {
    const funding = await system.db.execute<{ id: string }>(
      sql`SELECT id::text AS id FROM wallets WHERE kind = 'funding' LIMIT 1`,
    );
    const fundingId = funding.rows[0]?.id;
    expect(fundingId).toBeDefined();
    const answers = [];
    for (const id of [UNKNOWN_ID, "not-a-uuid", fundingId]) {
      for (const path of [`/v1/wallets/${id}`, `/v1/wallets/${id}/entries`]) {
        const r = await api.get(path);
        expectProblem(r, "wallet_not_found");
        answers.push(problemWithoutRequestId(r));
      }
    }
    for (const a of answers) expect(a).toEqual(answers[0]);
  });

  it.each([
    ["GET", "/v1/wallets/%ZZ"],
    ["GET", "/v1/wallets/%E0/entries"],
    ["GET", "/v1/wallets/%/balance?at=2026-01-01T00:00:00Z"],
    ["GET", "/v1/operations/%ZZ"],
    ["POST", "/v1/holds/%ZZ/capture"],
    ["DELETE", "/v1/webhook-endpoints/%C0%AF"],
  ])(
    "%s %s (a path that is not percent-encoded UTF-8) is 400 validation_error, not a 500",
    async (method, path) => {
      const r = await api.request(method, path, {
        ...(method === "POST" ? { body: {}, headers: { "idempotency-key": "bad-path" } } : {}),
      });
      expectProblem(r, "validation_error", { paths: ["path"] });
      await expectNothingMoved(system, before);
    },
  );

  it("a route that does not exist is 404 not_found", async () => {
    expectProblem(await api.request("DELETE", `/v1/wallets/${wallet}`), "not_found");
    expectProblem(await api.get(`/v1/wallets/${wallet}/balances`), "not_found");
    await expectNothingMoved(system, before);
  });

  it.each(["/v1/operations", "/v1/wallets/abc", "/v1/nothing-here"])(
    "a POST to %s (no POST route) is 404 not_found, whatever its body and Content-Type",
    async (path) => {
      for (const [contentType, rawBody] of [
        ["text/plain", "x"],
        ["application/json", "{"],
        ["application/json", "{}"],
      ] as const) {
        const r = await api.request("POST", path, { rawBody, headers: { "content-type": contentType } });
        expectProblem(r, "not_found");
      }
      await expectNothingMoved(system, before);
    },
  );
});

describe("GET /v1/wallets/:id/balance?at=: a missing, malformed or future instant is 400 validation_error", () => {
  it.each([
    ["missing", ""],
    ["not a time", "?at=yesterday"],
    ["a date without a time", "?at=2026-12-01"],
    ["a time without Z or an offset", "?at=2026-12-01T00:00:00"],
    ["later than the server's clock", `?at=${new Date(Date.now() + 3_600_000).toISOString()}`],
  ])("%s", async (_, query) => {
    const r = await api.get(`/v1/wallets/${wallet}/balance${query}`);
    expectProblem(r, "validation_error", { paths: ["query.at"] });
  });

  it("another client's wallet, or one that does not exist, is 404 wallet_not_found", async () => {
    const at = "?at=2026-01-01T00:00:00Z";
    expectProblem(await api.get(`/v1/wallets/${UNKNOWN_ID}/balance${at}`), "wallet_not_found");
    expectProblem(await api.get(`/v1/wallets/not-a-uuid/balance${at}`), "wallet_not_found");
  });
});

describe("list parameters out of range are 400 validation_error, never clamped", () => {
  const lists = [
    ["GET /v1/wallets", () => "/v1/wallets"],
    ["GET /v1/wallets/:id/entries", () => `/v1/wallets/${wallet}/entries`],
  ] as const;

  describe.each(lists)("%s", (_, path) => {
    it.each(["0", "101", "-1", "abc", "1.5", "1000000000000", "0x10", "1e2", "5.0", "+5", "", " 5"])(
      "limit=%s",
      async (limit) => {
        expectProblem(await api.get(`${path()}?limit=${limit}`), "validation_error", {
          paths: ["query.limit"],
        });
      },
    );

    it.each([
      ["an empty cursor", ""],
      ["a cursor that is not base64url JSON", "!!!"],
      ["base64url of text that is not JSON", Buffer.from("after=1").toString("base64url")],
      ["a cursor with unknown fields", cursorOf({ after: "1", extra: true })],
      ["a cursor with a number position", cursorOf({ after: 1 })],
    ])("%s", async (_, cursor) => {
      expectProblem(await api.get(`${path()}?cursor=${cursor}`), "validation_error", {
        paths: ["query.cursor"],
      });
    });
  });

  it("a wallet-list cursor is not an entries cursor, and the other way round", async () => {
    const walletCursor = cursorOf({ after: wallet });
    expect((await api.get(`/v1/wallets?cursor=${walletCursor}`)).status).toBe(200);
    expect((await api.get(`/v1/wallets/${wallet}/entries?cursor=${cursorOf({ after: "2" })}`)).status).toBe(
      200,
    );
    expectProblem(await api.get(`/v1/wallets/${wallet}/entries?cursor=${walletCursor}`), "validation_error", {
      paths: ["query.cursor"],
    });
    expectProblem(await api.get(`/v1/wallets?cursor=${cursorOf({ after: "2" })}`), "validation_error", {
      paths: ["query.cursor"],
    });
  });

  it("a cursor another list returned is refused, a wallet's entries' by another wallet's too", async () => {
    const otherWallet = (await api.get("/v1/wallets")).body.data.find(
      (w: { id: string }) => w.id !== wallet,
    ).id;
    const lists = ["/v1/wallets", `/v1/wallets/${wallet}/entries`, "/v1/operations"];
    const cursors = new Map<string, string>();
    for (const path of lists) {
      const first = await api.get(`${path}?limit=1`);
      expect(first.body.nextCursor, path).toEqual(expect.any(String));
      cursors.set(path, first.body.nextCursor);
      expect((await api.get(`${path}?limit=1&cursor=${first.body.nextCursor}`)).status, path).toBe(200);
    }
    for (const [from, cursor] of cursors) {
      for (const path of [...lists, `/v1/wallets/${otherWallet}/entries`, "/v1/webhook-endpoints"]) {
        if (path === from) continue;
        expectProblem(await api.get(`${path}?cursor=${cursor}`), "validation_error", {
          paths: ["query.cursor"],
        });
      }
    }
    // Filters are not the list: a page of all operations goes on under a status filter.
    const ops = cursors.get("/v1/operations");
    expect((await api.get(`/v1/operations?status=succeeded&cursor=${ops}`)).status).toBe(200);
  });

  it.each([
    ["zero", "0"],
    ["beyond a Postgres bigint", "9999999999999999999"],
    ["with leading zeros", "007"],
  ])("an entries cursor whose version is %s", async (_, version) => {
    const r = await api.get(`/v1/wallets/${wallet}/entries?cursor=${cursorOf({ after: version })}`);
    expectProblem(r, "validation_error", { paths: ["query.cursor"] });
  });

  it("the limit is checked before the wallet, the wallet before the cursor", async () => {
    const other = await newClient(system, "other");
    const foreign = await newWallet(other);
    expectProblem(await api.get(`/v1/wallets/${foreign}/entries?limit=0`), "validation_error");
    expectProblem(await api.get(`/v1/wallets/${foreign}/entries?cursor=!!!`), "wallet_not_found");
  });
});
