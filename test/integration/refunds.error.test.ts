import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, type Reply, waitAllSettled } from "../helpers/http.ts";
import {
  expectAuditClean,
  expectNothingMoved,
  type MoneySnapshot,
  moneySnapshot,
  operationsWithKey,
} from "../helpers/money.ts";
import { expectProblem, type ProblemCode } from "../helpers/problem.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Every error of docs/api.md's "Refunds" section, each provoked and answered with its problem body
 * (acceptance: nothing created, nothing moved, the original's refundedAmount unchanged) or its
 * failure code (application).
 */

let system: TestSystem;
let worker: SpawnedWorker;
/** Alice paid Bob 100 (`transfer`); Bob is the one who may refund it. */
let alice: Api;
let bob: Api;
let a: string;
let b: string;
let transfer: string;
let before: MoneySnapshot;

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
const MAX = Number.MAX_SAFE_INTEGER;

beforeAll(async () => {
  system = await startSystem({ partitions: 2 });
  worker = await system.spawnWorker();
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
  a = await newWallet(alice);
  b = await newWallet(bob);
  await alice.settle((await alice.topUp(a, 1_000)).body.id);
  transfer = (await alice.settle((await alice.transfer(a, b, 100)).body.id)).id;
});
afterAll(async () => system?.stop());
beforeEach(async () => {
  await waitAllSettled(system);
  before = await moneySnapshot(system);
});

const refundedAmount = async () => (await alice.get(`/v1/operations/${transfer}`)).body.refundedAmount;

/** Asserts the request was refused with nothing created or moved. */
async function expectRefused(r: Reply, code: ProblemCode, key?: string) {
  expectProblem(r, code);
  if (key) expect(await operationsWithKey(system, key)).toBe(0);
  await expectNothingMoved(system, before);
  expect(await refundedAmount()).toBe(0);
}

describe("POST /v1/refunds: refused at acceptance, nothing created", () => {
  it.each([
    ["operationId not a UUID", { operationId: "nope" }, "body.operationId"],
    ["operationId missing", { operationId: undefined }, "body.operationId"],
    ["a zero amount", { amount: 0 }, "body.amount"],
    ["a negative amount", { amount: -5 }, "body.amount"],
    ["an amount past 2^53-1", { amount: MAX + 1 }, "body.amount"],
    ["a fractional amount", { amount: 1.5 }, "body.amount"],
    ["an amount as a string", { amount: "10" }, "body.amount"],
    ["an unknown field", { toWalletId: UNKNOWN_ID }, "body"],
  ])("%s: 400 validation_error naming %s", async (_, patch, path) => {
    const k = randomUUID();
    const r = await bob.post(
      "/v1/refunds",
      { operationId: transfer, amount: 10, ...patch },
      { "idempotency-key": k },
    );
    await expectRefused(r, "validation_error", k);
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it("no Idempotency-Key: 400 idempotency_key_required", async () => {
    await expectRefused(await bob.post("/v1/refunds", { operationId: transfer }), "idempotency_key_required");
  });

  it("an unknown original: 404 operation_not_found", async () => {
    const k = randomUUID();
    await expectRefused(await bob.refund(UNKNOWN_ID, 10, {}, k), "operation_not_found", k);
  });

  it("more than the original's amount: 422 amount_exceeds_refundable", async () => {
    const k = randomUUID();
    const r = await bob.refund(transfer, 101, {}, k);
    await expectRefused(r, "amount_exceeds_refundable", k);
    expect(r.body.detail).toContain("100");
  });

  it("the same key with another body: 422 idempotency_key_reused, one operation, checked before the original", async () => {
    const t = await alice.settle((await alice.transfer(a, b, 5)).body.id);
    const k = randomUUID();
    const first = await bob.refund(t.id, 1, {}, k);
    expect(first.status).toBe(202);
    await bob.settle(first.body.id);
    before = await moneySnapshot(system);
    expectProblem(await bob.refund(t.id, 2, {}, k), "idempotency_key_reused");
    // Where the original's own check would refuse (unknown, above its amount, not refundable).
    expectProblem(await bob.refund(UNKNOWN_ID, 1, {}, k), "idempotency_key_reused");
    expectProblem(await bob.refund(t.id, 6, {}, k), "idempotency_key_reused");
    expectProblem(await bob.refund(first.body.id, 1, {}, k), "idempotency_key_reused");
    const replay = await bob.refund(t.id, 1, {}, k);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: first.body.id, status: "succeeded", refundOf: t.id });
    expect(await operationsWithKey(system, k)).toBe(1);
    await expectNothingMoved(system, before);
    expect((await alice.get(`/v1/operations/${t.id}`)).body.refundedAmount).toBe(1);
  });
});

describe("operation_not_refundable: an operation the caller submitted or received, not a refundable original", () => {
  it.each([
    ["a top-up", async () => (await bob.settle((await bob.topUp(b, 5)).body.id)).id],
    ["a payout", async () => (await bob.settle((await bob.payout(b, 1)).body.id)).id],
    ["a hold", async () => (await bob.settle((await bob.hold(b, a, 1)).body.id)).id],
    [
      "a void",
      async () => {
        const hold = await bob.settle((await bob.hold(b, a, 1)).body.id);
        return (await bob.settle((await bob.void(hold.id)).body.id)).id;
      },
    ],
    [
      "a refund",
      async () => {
        const t = await alice.settle((await alice.transfer(a, b, 3)).body.id);
        return (await bob.settle((await bob.refund(t.id)).body.id)).id;
      },
    ],
    [
      "a transfer Bob sent into Alice's wallet",
      async () => (await bob.settle((await bob.transfer(b, a, 2)).body.id)).id,
    ],
    [
      "a failed transfer into Bob's wallet",
      async () => {
        const empty = await newWallet(alice);
        const t = await alice.settle((await alice.transfer(empty, b, 1)).body.id);
        expect(t.failure.code).toBe("insufficient_funds");
        return t.id;
      },
    ],
  ])("%s: 422, nothing created", async (_, original) => {
    const id = await original();
    await waitAllSettled(system);
    before = await moneySnapshot(system);
    const k = randomUUID();
    await expectRefused(await bob.refund(id, undefined, {}, k), "operation_not_refundable", k);
  });

  it("a transfer still pending: 422; refundable once it succeeded", async () => {
    expect(await system.terminateWorker(worker)).not.toBeUndefined();
    const pending = await alice.transfer(a, b, 7);
    expect(pending.status).toBe(202);
    before = await moneySnapshot(system);
    const k = randomUUID();
    await expectRefused(await bob.refund(pending.body.id, undefined, {}, k), "operation_not_refundable", k);
    worker = await system.spawnWorker();
    expect((await alice.settle(pending.body.id)).status).toBe("succeeded");
    expect((await bob.settle((await bob.refund(pending.body.id, undefined, {}, k)).body.id)).status).toBe(
      "succeeded",
    );
    await expectAuditClean(system);
  });
});

describe("checked when applied: failed, money unchanged", () => {
  it("refunds that together pass the original fail amount_exceeds_refundable", async () => {
    const t = await alice.settle((await alice.transfer(a, b, 10)).body.id);
    const first = await bob.settle((await bob.refund(t.id, 8)).body.id);
    expect(first.status).toBe("succeeded");
    await waitAllSettled(system);
    before = await moneySnapshot(system);
    const second = await bob.settle((await bob.refund(t.id, 3)).body.id);
    expect(second).toMatchObject({ status: "failed", failure: { code: "amount_exceeds_refundable" } });
    const after = await moneySnapshot(system);
    expect(after.wallets).toEqual(before.wallets);
    expect(after.entries).toBe(before.entries);
    expect((await alice.get(`/v1/operations/${t.id}`)).body.refundedAmount).toBe(8);
    await expectAuditClean(system);
  });
});
