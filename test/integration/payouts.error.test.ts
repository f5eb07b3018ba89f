import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import {
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/** Every error of a payout, at acceptance (whole problem bodies, nothing created) and when applied. */

let system: TestSystem;
let api: Api;
let w: string;
let before: MoneySnapshot;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
  w = await newWallet(api);
  await api.settle((await api.topUp(w, 100)).body.id);
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

describe("POST /v1/payouts: refused at acceptance", () => {
  it.each([
    ["a negative amount", { amount: -1 }, "body.amount"],
    ["a string amount", { amount: "5" }, "body.amount"],
    ["a toWalletId", { toWalletId: "01900000-0000-7000-8000-000000000000" }, "body"],
    ["a malformed walletId", { walletId: "x" }, "body.walletId"],
  ])("%s: 400 validation_error", async (_, patch, path) => {
    const r = await api.post(
      "/v1/payouts",
      { walletId: w, amount: 5, ...patch },
      { "idempotency-key": randomUUID() },
    );
    expectProblem(r, "validation_error", { paths: [path] });
    await expectNothingMoved(system, before);
  });

  it("no Idempotency-Key: 400 idempotency_key_required", async () => {
    expectProblem(await api.post("/v1/payouts", { walletId: w, amount: 5 }), "idempotency_key_required");
    await expectNothingMoved(system, before);
  });

  it("an unknown wallet: 404 wallet_not_found", async () => {
    expectProblem(await api.payout("01900000-0000-7000-8000-000000000000", 5), "wallet_not_found");
    await expectNothingMoved(system, before);
  });

  it("a key reused with another amount: 422 idempotency_key_reused", async () => {
    const k = randomUUID();
    await api.settle((await api.payout(w, 1, k)).body.id);
    const after = await moneySnapshot(system);
    expectProblem(await api.payout(w, 2, k), "idempotency_key_reused");
    expect(await operationsWithKey(system, k)).toBe(1);
    await expectNothingMoved(system, after);
  });
});

describe("POST /v1/payouts: failed when applied", () => {
  it("more than the wallet holds: insufficient_funds, no entry", async () => {
    const balance = (await api.get(`/v1/wallets/${w}`)).body.balance;
    const op = await api.settle((await api.payout(w, balance + 1)).body.id);
    expect(op).toMatchObject({ status: "failed", failure: { code: "insufficient_funds" } });
    await expectNothingMoved(system, { ...before, operations: before.operations + 1 });
  });
});
