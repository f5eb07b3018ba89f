import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import {
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem, problemWithoutRequestId } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;
let other: Api;
/** `api`'s wallets: USD with 1,000; USD empty; EUR with 500. */
let usd: string;
let usd2: string;
let eur: string;
/** `other`'s USD wallet with 1,000. */
let foreign: string;
/** A USD funding account (not a client wallet). */
let funding: string;
let before: MoneySnapshot;

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
const MAX = Number.MAX_SAFE_INTEGER; // 2^53-1
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 1 });
  api = await newClient(system, "payer");
  other = await newClient(system, "stranger");
  usd = await newWallet(api);
  usd2 = await newWallet(api);
  eur = await newWallet(api, { currency: "EUR" });
  foreign = await newWallet(other);
  for (const [client, wallet, amount] of [
    [api, usd, 1_000],
    [api, eur, 500],
    [other, foreign, 1_000],
  ] as const) {
    expect((await client.settle((await client.topUp(wallet, amount)).body.id)).status).toBe("succeeded");
  }
  const f = await system.db.execute<{ id: string }>(
    sql`SELECT id::text AS id FROM wallets WHERE kind = 'funding' AND currency = 'USD' LIMIT 1`,
  );
  funding = f.rows[0]?.id ?? "";
  expect(funding).not.toBe("");
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

const key = () => ({ "idempotency-key": randomUUID() });
const rawPost = (path: string, body: string, headers: Record<string, string>) =>
  api.request("POST", path, { rawBody: body, headers: { ...key(), ...headers } });

describe("POST /v1/top-ups and /v1/transfers: invalid amounts are 400 validation_error and move nothing", () => {
  const amounts: [string, unknown][] = [
    ["a float", 1.5],
    ["a numeric string", "100"],
    ["zero", 0],
    ["a negative", -1],
    ["2^53", 2 ** 53],
    ["1e300", 1e300],
    ["null", null],
    ["a boolean", true],
  ];

  it.each(amounts)("top-up: %s", async (_, amount) => {
    const r = await api.post("/v1/top-ups", { walletId: usd, amount }, key());
    expectProblem(r, "validation_error", { paths: ["body.amount"] });
    await expectNothingMoved(system, before);
  });

  it.each(amounts)("transfer: %s", async (_, amount) => {
    const r = await api.post("/v1/transfers", { fromWalletId: usd, toWalletId: usd2, amount }, key());
    expectProblem(r, "validation_error", { paths: ["body.amount"] });
    await expectNothingMoved(system, before);
  });

  it("a missing amount", async () => {
    expectProblem(await api.post("/v1/top-ups", { walletId: usd }, key()), "validation_error", {
      paths: ["body.amount"],
    });
    await expectNothingMoved(system, before);
  });
});

describe("POST /v1/top-ups and /v1/transfers: other invalid bodies are 400 validation_error", () => {
  it.each<[string, string, () => Record<string, unknown>, string[]]>([
    ["top-up without walletId", "/v1/top-ups", () => ({ amount: 1 }), ["body.walletId"]],
    [
      "top-up with a walletId that is not a UUID",
      "/v1/top-ups",
      () => ({ walletId: "w_1", amount: 1 }),
      ["body.walletId"],
    ],
    [
      "top-up with a currency (not a field)",
      "/v1/top-ups",
      () => ({ walletId: usd, amount: 1, currency: "USD" }),
      ["body"],
    ],
    [
      "top-up with 51 metadata keys",
      "/v1/top-ups",
      () => ({
        walletId: usd,
        amount: 1,
        metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
      }),
      ["body.metadata"],
    ],
    [
      "top-up with a metadata key of 41 characters",
      "/v1/top-ups",
      () => ({ walletId: usd, amount: 1, metadata: { ["k".repeat(41)]: "v" } }),
      [`body.metadata.${"k".repeat(41)}`],
    ],
    [
      "top-up with a metadata value of 501 code points",
      "/v1/top-ups",
      () => ({ walletId: usd, amount: 1, metadata: { k: "é".repeat(501) } }),
      ["body.metadata.k"],
    ],
    [
      "top-up with a number as metadata value",
      "/v1/top-ups",
      () => ({ walletId: usd, amount: 1, metadata: { k: 1 } }),
      ["body.metadata.k"],
    ],
    [
      "top-up with U+0000 in a metadata value",
      "/v1/top-ups",
      () => ({ walletId: usd, amount: 1, metadata: { k: "\u0000" } }),
      ["body.metadata.k"],
    ],
    [
      "transfer without fromWalletId",
      "/v1/transfers",
      () => ({ toWalletId: usd2, amount: 1 }),
      ["body.fromWalletId"],
    ],
    [
      "transfer with a toWalletId that is not a UUID",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: 7, amount: 1 }),
      ["body.toWalletId"],
    ],
    [
      "transfer with an unknown field",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: usd2, amount: 1, memo: "x" }),
      ["body"],
    ],
    [
      "transfer with metadata that is an array",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: usd2, amount: 1, metadata: [] }),
      ["body.metadata"],
    ],
  ])("%s", async (_, path, body, paths) => {
    expectProblem(await api.post(path, body(), key()), "validation_error", { paths });
    await expectNothingMoved(system, before);
  });

  it("a transfer from a wallet to itself", async () => {
    const r = await api.post("/v1/transfers", { fromWalletId: usd, toWalletId: usd, amount: 1 }, key());
    expectProblem(r, "validation_error", { paths: ["body.toWalletId"] });
    await expectNothingMoved(system, before);
  });

  it("a transfer from a wallet to itself spelled in upper case", async () => {
    const body = { fromWalletId: usd, toWalletId: usd.toUpperCase(), amount: 1 };
    expectProblem(await api.post("/v1/transfers", body, key()), "validation_error", {
      paths: ["body.toWalletId"],
    });
    await expectNothingMoved(system, before);
  });

  it.each([
    ["/v1/top-ups", "malformed JSON", '{"amount": 1'],
    ["/v1/top-ups", "a JSON array", "[]"],
    ["/v1/transfers", "malformed JSON", "{fromWalletId: 1}"],
    ["/v1/transfers", "JSON null", "null"],
  ])("%s: %s", async (path, _, raw) => {
    expectProblem(await rawPost(path, raw, { "content-type": "application/json" }), "validation_error");
    await expectNothingMoved(system, before);
  });
});

describe("media type and size", () => {
  it.each(["/v1/top-ups", "/v1/transfers"])(
    "%s: a text/plain body is 415, one over 64 KiB is 413",
    async (path) => {
      const json = JSON.stringify(
        path === "/v1/top-ups"
          ? { walletId: usd, amount: 1 }
          : { fromWalletId: usd, toWalletId: usd2, amount: 1 },
      );
      expectProblem(await rawPost(path, json, { "content-type": "text/plain" }), "unsupported_media_type");
      const big = json + " ".repeat(64 * 1024 + 1 - json.length);
      expectProblem(await rawPost(path, big, { "content-type": "application/json" }), "payload_too_large");
      await expectNothingMoved(system, before);
    },
  );
});

describe("the Idempotency-Key header", () => {
  it.each([
    ["/v1/top-ups", () => ({ walletId: usd, amount: 1 })],
    ["/v1/transfers", () => ({ fromWalletId: usd, toWalletId: usd2, amount: 1 })],
  ])("%s without it is 400 idempotency_key_required", async (path, body) => {
    expectProblem(await api.post(path, body()), "idempotency_key_required");
    await expectNothingMoved(system, before);
  });

  it.each([
    ["empty", ""],
    ["256 characters", "k".repeat(256)],
    ["with a tab inside", "a\tb"],
    ["with a non-ASCII character", "clé"],
  ])("%s is 400 validation_error", async (_, value) => {
    const r = await api.post("/v1/top-ups", { walletId: usd, amount: 1 }, { "idempotency-key": value });
    expectProblem(r, "validation_error", { paths: ["header.Idempotency-Key"] });
    await expectNothingMoved(system, before);
  });

  it("is checked before fromWalletId == toWalletId", async () => {
    const r = await api.post("/v1/transfers", { fromWalletId: usd, toWalletId: usd, amount: 1 });
    expectProblem(r, "idempotency_key_required");
    await expectNothingMoved(system, before);
  });
});

describe("a used Idempotency-Key with a different body is 422 idempotency_key_reused and creates nothing", () => {
  let used: string;
  let original: string;

  beforeAll(async () => {
    used = randomUUID();
    const r = await api.post(
      "/v1/top-ups",
      { walletId: usd2, amount: 5, metadata: { n: "1" } },
      { "idempotency-key": used },
    );
    expect(r.status).toBe(202);
    original = r.body.id;
    await api.settle(original);
  });

  it.each([
    ["another amount", "/v1/top-ups", () => ({ walletId: usd2, amount: 6, metadata: { n: "1" } })],
    ["other metadata", "/v1/top-ups", () => ({ walletId: usd2, amount: 5, metadata: { n: "2" } })],
    ["no metadata", "/v1/top-ups", () => ({ walletId: usd2, amount: 5 })],
    [
      "another of the caller's wallets",
      "/v1/top-ups",
      () => ({ walletId: usd, amount: 5, metadata: { n: "1" } }),
    ],
    ["an unknown wallet", "/v1/top-ups", () => ({ walletId: UNKNOWN_ID, amount: 5 })],
    ["another client's wallet", "/v1/top-ups", () => ({ walletId: foreign, amount: 5 })],
    [
      "a transfer on the other route",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: usd2, amount: 5 }),
    ],
    [
      "a transfer to an unknown destination",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: UNKNOWN_ID, amount: 5 }),
    ],
    [
      "a transfer across currencies",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: eur, amount: 5 }),
    ],
  ])("%s", async (_, path, body) => {
    const r = await api.post(path, body(), { "idempotency-key": used });
    expectProblem(r, "idempotency_key_reused");
    expect(await operationsWithKey(system, used)).toBe(1);
    await expectNothingMoved(system, before);
  });

  it("a body that fails the schema is still 400, and a self-transfer is 400, before the key is looked up", async () => {
    const bad = await api.post("/v1/top-ups", { walletId: usd2, amount: 0 }, { "idempotency-key": used });
    expectProblem(bad, "validation_error", { paths: ["body.amount"] });
    const self = await api.post(
      "/v1/transfers",
      { fromWalletId: usd, toWalletId: usd, amount: 5 },
      { "idempotency-key": used },
    );
    expectProblem(self, "validation_error", { paths: ["body.toWalletId"] });
    await expectNothingMoved(system, before);
  });

  it("the same body again is a replay (202, Idempotent-Replayed: true), not an error", async () => {
    const r = await api.post(
      "/v1/top-ups",
      { metadata: { n: "1" }, amount: 5, walletId: usd2 },
      { "idempotency-key": used },
    );
    expect(r.status).toBe(202);
    expect(r.headers.get("idempotent-replayed")).toBe("true");
    expect(r.body.id).toBe(original);
    await expectNothingMoved(system, before);
  });
});

describe("wallets that are unknown or not the caller's are 404 wallet_not_found and move nothing", () => {
  const cases: [string, string, () => Record<string, unknown>][] = [
    ["top-up of an unknown wallet", "/v1/top-ups", () => ({ walletId: UNKNOWN_ID, amount: 1 })],
    ["top-up of another client's wallet", "/v1/top-ups", () => ({ walletId: foreign, amount: 1 })],
    ["top-up of a funding account", "/v1/top-ups", () => ({ walletId: funding, amount: 1 })],
    [
      "transfer from an unknown wallet",
      "/v1/transfers",
      () => ({ fromWalletId: UNKNOWN_ID, toWalletId: usd2, amount: 1 }),
    ],
    [
      "transfer from another client's wallet",
      "/v1/transfers",
      () => ({ fromWalletId: foreign, toWalletId: usd2, amount: 1 }),
    ],
    [
      "transfer from a funding account",
      "/v1/transfers",
      () => ({ fromWalletId: funding, toWalletId: usd2, amount: 1 }),
    ],
    [
      "transfer to an unknown wallet",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: UNKNOWN_ID, amount: 1 }),
    ],
    [
      "transfer to a funding account",
      "/v1/transfers",
      () => ({ fromWalletId: usd, toWalletId: funding, amount: 1 }),
    ],
    [
      "transfer from another client's USD wallet to an EUR wallet (404 before 422)",
      "/v1/transfers",
      () => ({ fromWalletId: foreign, toWalletId: eur, amount: 1 }),
    ],
  ];

  it.each(cases)("%s", async (_, path, body) => {
    expectProblem(await api.post(path, body(), key()), "wallet_not_found");
    await expectNothingMoved(system, before);
  });

  it("another client's wallet is answered exactly as an unknown one", async () => {
    const unknownTopUp = await api.post("/v1/top-ups", { walletId: UNKNOWN_ID, amount: 1 }, key());
    const foreignTopUp = await api.post("/v1/top-ups", { walletId: foreign, amount: 1 }, key());
    expect(problemWithoutRequestId(foreignTopUp)).toEqual(problemWithoutRequestId(unknownTopUp));
    const unknownSource = await api.post(
      "/v1/transfers",
      { fromWalletId: UNKNOWN_ID, toWalletId: usd2, amount: 1 },
      key(),
    );
    const foreignSource = await api.post(
      "/v1/transfers",
      { fromWalletId: foreign, toWalletId: usd2, amount: 1 },
      key(),
    );
    expect(problemWithoutRequestId(foreignSource)).toEqual(problemWithoutRequestId(unknownSource));
    await expectNothingMoved(system, before);
  });
});

describe("currencies that differ are 422 currency_mismatch", () => {
  it.each([
    ["USD to EUR", () => ({ fromWalletId: usd, toWalletId: eur, amount: 1 })],
    ["EUR to USD", () => ({ fromWalletId: eur, toWalletId: usd, amount: 1 })],
  ])("%s", async (_, body) => {
    const k = randomUUID();
    expectProblem(await api.post("/v1/transfers", body(), { "idempotency-key": k }), "currency_mismatch");
    expect(await operationsWithKey(system, k)).toBe(0);
    await expectNothingMoved(system, before);
  });

  it("the answer names no currency: another client's wallet's currency is not told", async () => {
    const theirs = await newWallet(other, { currency: "JPY" });
    const before2 = await moneySnapshot(system);
    const toTheirs = await api.transfer(usd, theirs, 1);
    const toMine = await api.transfer(usd, eur, 1);
    for (const r of [toTheirs, toMine]) expectProblem(r, "currency_mismatch");
    expect(toTheirs.body.detail).not.toMatch(/JPY|USD/);
    expect(toTheirs.body.detail).toBe(toMine.body.detail);
    await expectNothingMoved(system, before2);
  });
});

describe("failures found when applied: status failed, the money stays where it was", () => {
  const balanceOf = async (client: Api, id: string) => (await client.get(`/v1/wallets/${id}`)).body;
  const entriesOf = async (operationId: string) =>
    (
      await system.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM entries WHERE operation_id = ${operationId}`,
      )
    ).rows[0]?.n;

  it("a transfer above the balance fails with insufficient_funds, and its replay says so", async () => {
    const src = await newWallet(api);
    const dst = await newWallet(api);
    await api.settle((await api.topUp(src, 100)).body.id);
    const k = randomUUID();
    const accepted = await api.transfer(src, dst, 101, k);
    expect(accepted.status).toBe(202);
    const done = await api.settle(accepted.body.id);
    expect(done).toMatchObject({
      status: "failed",
      failure: { code: "insufficient_funds", message: expect.stringMatching(/\S/) },
    });
    expect(done.completedAt).toEqual(expect.any(String));
    expect(await balanceOf(api, src)).toMatchObject({ balance: 100, version: 1 });
    expect(await balanceOf(api, dst)).toMatchObject({ balance: 0, version: 0 });
    expect(await entriesOf(done.id)).toBe(0);

    // A replay answers with the operation as it is now, even though it failed.
    const replay = await api.transfer(src, dst, 101, k);
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(done);
    expect(await operationsWithKey(system, k)).toBe(1);
  });

  it("a credit above 2^53-1 fails with balance_limit_exceeded, for a top-up and for a transfer", async () => {
    const full = await newWallet(api);
    const src = await newWallet(api);
    expect((await api.settle((await api.topUp(full, MAX)).body.id)).status).toBe("succeeded");
    await api.settle((await api.topUp(src, 10)).body.id);
    expect(await balanceOf(api, full)).toMatchObject({ balance: MAX, version: 1 });

    const topUp = await api.settle((await api.topUp(full, 1)).body.id);
    expect(topUp).toMatchObject({ status: "failed", failure: { code: "balance_limit_exceeded" } });
    const transfer = await api.settle((await api.transfer(src, full, 1)).body.id);
    expect(transfer).toMatchObject({ status: "failed", failure: { code: "balance_limit_exceeded" } });

    expect(await balanceOf(api, full)).toMatchObject({ balance: MAX, version: 1 });
    expect(await balanceOf(api, src)).toMatchObject({ balance: 10, version: 1 });
    expect(await entriesOf(topUp.id)).toBe(0);
    expect(await entriesOf(transfer.id)).toBe(0);
  });
});

describe("GET /v1/operations/:id", () => {
  it("an unknown id and a malformed id are 404 not_found", async () => {
    const unknown = await api.get(`/v1/operations/${UNKNOWN_ID}`);
    const malformed = await api.get("/v1/operations/op_123");
    expectProblem(unknown, "not_found");
    expectProblem(malformed, "not_found");
    expect(problemWithoutRequestId(malformed)).toEqual(problemWithoutRequestId(unknown));
    expectProblem(await api.get(`/v1/operations/${UNKNOWN_ID}?wait=1`), "not_found");
  });

  it.each(["31", "-1", "1.5", "abc", "100000", "0x1", "1e1", "", "+1"])(
    "?wait=%s is 400 validation_error",
    async (wait) => {
      const id = (await api.get("/v1/operations?limit=1")).body.data[0].id;
      expectProblem(await api.get(`/v1/operations/${id}?wait=${wait}`), "validation_error", {
        paths: ["query.wait"],
      });
    },
  );
});

describe("GET /v1/operations", () => {
  it.each([
    ["limit=0", "query.limit"],
    ["limit=101", "query.limit"],
    ["limit=ten", "query.limit"],
    ["cursor=!!!", "query.cursor"],
    [`cursor=${cursorOf({ after: "12" })}`, "query.cursor"],
    [`cursor=${cursorOf({ before: UNKNOWN_ID })}`, "query.cursor"],
    ["status=done", "query.status"],
    ["status=PENDING", "query.status"],
    ["walletId=w_1", "query.walletId"],
  ])("?%s is 400 validation_error", async (query, path) => {
    expectProblem(await api.get(`/v1/operations?${query}`), "validation_error", { paths: [path] });
  });

  it("?walletId= naming an unknown wallet, another client's wallet or a funding account is 404 wallet_not_found", async () => {
    const answers = [];
    for (const id of [UNKNOWN_ID, foreign, funding]) {
      const r = await api.get(`/v1/operations?walletId=${id}`);
      expectProblem(r, "wallet_not_found");
      answers.push(problemWithoutRequestId(r));
    }
    for (const a of answers) expect(a).toEqual(answers[0]);
  });
});
