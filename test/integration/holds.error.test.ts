import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import {
  expectAuditClean,
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Every error of docs/api.md's "Holds" section, each provoked and answered with its whole problem
 * body (acceptance) or its failure code (application), nothing created or moved where refused.
 */

let system: TestSystem;
let api: Api;
/** `api`'s USD wallet with 1,000, an empty USD wallet, an EUR wallet. */
let usd: string;
let usd2: string;
let eur: string;
/** An active hold of 100 from `usd` to `usd2`. */
let hold: string;
let before: MoneySnapshot;

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
const MAX = Number.MAX_SAFE_INTEGER;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
  usd = await newWallet(api);
  usd2 = await newWallet(api);
  eur = await newWallet(api, { currency: "EUR" });
  await api.settle((await api.topUp(usd, 1_000)).body.id);
  hold = (await api.settle((await api.hold(usd, usd2, 100)).body.id)).id;
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

const key = () => ({ "idempotency-key": randomUUID() });
const bulk = (operations: unknown[]) => api.post("/v1/operations/bulk", { operations });

describe("POST /v1/holds: refused at acceptance, nothing created", () => {
  it.each([
    ["a zero amount", { amount: 0 }, "body.amount"],
    ["an amount past 2^53-1", { amount: MAX + 1 }, "body.amount"],
    ["expiresInSeconds 0", { expiresInSeconds: 0 }, "body.expiresInSeconds"],
    ["expiresInSeconds past 30 days", { expiresInSeconds: 2_592_001 }, "body.expiresInSeconds"],
    ["expiresInSeconds 1.5", { expiresInSeconds: 1.5 }, "body.expiresInSeconds"],
    ["an unknown field", { captureBy: "x" }, "body"],
  ])("%s: 400 validation_error", async (_, patch, path) => {
    const r = await api.post(
      "/v1/holds",
      { fromWalletId: usd, toWalletId: usd2, amount: 5, ...patch },
      key(),
    );
    expectProblem(r, "validation_error", { paths: [path] });
    await expectNothingMoved(system, before);
  });

  it("from == to: 400 validation_error on toWalletId", async () => {
    const r = await api.post("/v1/holds", { fromWalletId: usd, toWalletId: usd, amount: 5 }, key());
    expectProblem(r, "validation_error", { paths: ["body.toWalletId"] });
    await expectNothingMoved(system, before);
  });

  it("no Idempotency-Key: 400 idempotency_key_required", async () => {
    const r = await api.post("/v1/holds", { fromWalletId: usd, toWalletId: usd2, amount: 5 });
    expectProblem(r, "idempotency_key_required");
    await expectNothingMoved(system, before);
  });

  it("an unknown source or destination: 404 wallet_not_found", async () => {
    expectProblem(await api.hold(UNKNOWN_ID, usd2, 5), "wallet_not_found");
    expectProblem(await api.hold(usd, UNKNOWN_ID, 5), "wallet_not_found");
    await expectNothingMoved(system, before);
  });

  it("wallets of two currencies: 422 currency_mismatch", async () => {
    expectProblem(await api.hold(usd, eur, 5), "currency_mismatch");
    await expectNothingMoved(system, before);
  });

  it("a key reused with another body: 422 idempotency_key_reused", async () => {
    const k = randomUUID();
    expect((await api.hold(usd, usd2, 5, {}, k)).status).toBe(202);
    await waitAllSettled(system);
    const after = await moneySnapshot(system);
    expectProblem(await api.hold(usd, usd2, 6, {}, k), "idempotency_key_reused");
    expect(await operationsWithKey(system, k)).toBe(1);
    await expectNothingMoved(system, after);
    await api.settle((await api.void((await api.hold(usd, usd2, 5, {}, k)).body.id)).body.id);
  });
});

describe("POST /v1/holds/:id/capture and /void: refused at acceptance, nothing created", () => {
  it.each([
    ["an id that names no operation", () => UNKNOWN_ID],
    ["an id that is not a UUID", () => "not-a-uuid"],
  ])("%s: 404 hold_not_found", async (_, id) => {
    expectProblem(await api.capture(id(), 1), "hold_not_found");
    expectProblem(await api.void(id()), "hold_not_found");
    await expectNothingMoved(system, before);
  });

  it("the id of an operation that is not a hold: 404 hold_not_found", async () => {
    const topUp = (await api.get(`/v1/operations?type=top_up&walletId=${usd}`)).body.data[0].id;
    expectProblem(await api.capture(topUp, 1), "hold_not_found");
    expectProblem(await api.void(topUp), "hold_not_found");
    await expectNothingMoved(system, before);
  });

  it("a capture above the held amount: 422 amount_exceeds_hold", async () => {
    expectProblem(await api.capture(hold, 101), "amount_exceeds_hold");
    await expectNothingMoved(system, before);
  });

  it("a capture of 0 or with a fraction: 400 validation_error", async () => {
    expectProblem(await api.capture(hold, 0), "validation_error", { paths: ["body.amount"] });
    const r = await api.request("POST", `/v1/holds/${hold}/capture`, {
      rawBody: '{"amount":1.0}',
      headers: { "content-type": "application/json", ...key() },
    });
    expectProblem(r, "validation_error", { paths: ["body.amount"] });
    await expectNothingMoved(system, before);
  });

  it("a void with a body field: 400 validation_error; without a key: 400 idempotency_key_required", async () => {
    expectProblem(await api.post(`/v1/holds/${hold}/void`, { amount: 5 }, key()), "validation_error", {
      paths: ["body"],
    });
    expectProblem(await api.post(`/v1/holds/${hold}/void`, {}), "idempotency_key_required");
    await expectNothingMoved(system, before);
  });

  it("the key is checked before the hold: a used key is 422 idempotency_key_reused where the hold's check would refuse", async () => {
    const h = (await api.settle((await api.hold(usd, usd2, 10)).body.id)).id;
    const k = randomUUID();
    expect((await api.capture(h, 4, k)).status).toBe(202);
    await waitAllSettled(system);
    const after = await moneySnapshot(system);
    expectProblem(await api.capture(UNKNOWN_ID, 4, k), "idempotency_key_reused");
    expectProblem(await api.capture(h, 10_000, k), "idempotency_key_reused");
    expectProblem(await api.void(UNKNOWN_ID, k), "idempotency_key_reused");
    // Sent again as it was, it is the same operation, whatever became of the hold since.
    const replay = await api.capture(h, 4, k);
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({ type: "capture", status: "succeeded", amount: 4, holdId: h });
    expect(await operationsWithKey(system, k)).toBe(1);
    await expectNothingMoved(system, after);
  });

  it("in a bulk, a later item under an earlier one's key is answered by that key, not by its hold's check", async () => {
    const h = (await api.settle((await api.hold(usd, usd2, 10)).body.id)).id;
    const k = randomUUID();
    const r = await bulk([
      { type: "capture", idempotencyKey: k, holdId: h, amount: 10 },
      { type: "capture", idempotencyKey: k, holdId: h, amount: 10_000 },
      { type: "capture", idempotencyKey: k, holdId: UNKNOWN_ID, amount: 10 },
      { type: "capture", idempotencyKey: k, holdId: h, amount: 10 },
    ]);
    expect(r.status).toBe(200);
    const [first, above, unknown, again] = r.body.data;
    expect(first).toMatchObject({ status: 202, replayed: false });
    expect(above).toMatchObject({ status: 422, error: { code: "idempotency_key_reused" } });
    expect(unknown).toMatchObject({ status: 422, error: { code: "idempotency_key_reused" } });
    expect(again).toMatchObject({ status: 202, replayed: true, operation: { id: first.operation.id } });
    await api.settle(first.operation.id);
    expect(await operationsWithKey(system, k)).toBe(1);
    expect((await api.get(`/v1/operations/${h}`)).body.hold).toMatchObject({
      status: "captured",
      capturedAmount: 10,
    });
  });

  it("a hold's replay answers its hold as it is now", async () => {
    const k = randomUUID();
    const placed = await api.settle((await api.hold(usd, usd2, 3, {}, k)).body.id);
    expect(placed.hold).toMatchObject({ status: "active", capturedAmount: null, releasedAt: null });
    await api.settle((await api.capture(placed.id, 2)).body.id);
    const replay = await api.hold(usd, usd2, 3, {}, k);
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({ id: placed.id, status: "succeeded" });
    expect(replay.body.hold).toMatchObject({
      status: "captured",
      capturedAmount: 2,
      releasedAt: expect.any(String),
    });
    const bulkReplay = (
      await bulk([{ type: "hold", idempotencyKey: k, fromWalletId: usd, toWalletId: usd2, amount: 3 }])
    ).body.data[0];
    expect(bulkReplay).toMatchObject({ status: 202, replayed: true, operation: { id: placed.id } });
    expect(bulkReplay.operation.hold).toEqual(replay.body.hold);
  });

  it("a capture without an amount and one with the full amount are different requests under one key", async () => {
    const h = (await api.settle((await api.hold(usd, usd2, 7)).body.id)).id;
    const k = randomUUID();
    expect((await api.capture(h, undefined, k)).status).toBe(202);
    expectProblem(await api.capture(h, 7, k), "idempotency_key_reused");
    expect(await operationsWithKey(system, k)).toBe(1);
  });
});

describe("failures when applied", () => {
  it("a hold beyond the available balance fails insufficient_funds, reserving nothing", async () => {
    const w = await newWallet(api);
    await api.settle((await api.topUp(w, 50)).body.id);
    await api.settle((await api.hold(w, usd2, 30)).body.id);
    const over = await api.settle((await api.hold(w, usd2, 21)).body.id);
    expect(over).toMatchObject({ status: "failed", failure: { code: "insufficient_funds" }, hold: null });
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ heldBalance: 30, availableBalance: 20 });
  });

  it("a capture or void of a hold already resolved, or whose hold failed, fails hold_not_active", async () => {
    const h = (await api.settle((await api.hold(usd, usd2, 10)).body.id)).id;
    expect((await api.settle((await api.void(h)).body.id)).status).toBe("succeeded");
    for (const second of [await api.capture(h, 5), await api.void(h)]) {
      expect(await api.settle(second.body.id)).toMatchObject({
        status: "failed",
        failure: { code: "hold_not_active", message: expect.any(String) },
      });
    }
    const poor = await newWallet(api);
    const failedHold = await api.settle((await api.hold(poor, usd2, 10)).body.id);
    expect(failedHold.status).toBe("failed");
    const c = await api.settle((await api.capture(failedHold.id, 10)).body.id);
    expect(c.failure.code).toBe("hold_not_active");
    await expectAuditClean(system);
  });

  it("a capture whose destination would pass 2^53-1 fails balance_limit_exceeded and leaves the hold active", async () => {
    const full = await newWallet(api);
    await api.settle((await api.topUp(full, MAX - 3)).body.id);
    const h = (await api.settle((await api.hold(usd, full, 5)).body.id)).id;
    const c = await api.settle((await api.capture(h, 5)).body.id);
    expect(c.failure.code).toBe("balance_limit_exceeded");
    expect((await api.get(`/v1/operations/${h}`)).body.hold.status).toBe("active");
    // A smaller capture still fits.
    expect((await api.settle((await api.capture(h, 3)).body.id)).status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${full}`)).body).toMatchObject({ balance: MAX });
    await expectAuditClean(system);
  });
});
