import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Refunds (docs/api.md, "Refunds"): the receiver of a transfer or capture sends all or part of it
 * back, once or in several steps; the refund is the original reversed, and the original's
 * `refundedAmount` is the sum of its succeeded refunds. The money is asserted: balances,
 * entries, versions and the refunded sums.
 */

let system: TestSystem;
/** Alice pays Bob; Bob refunds. */
let alice: Api;
let bob: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 1 });
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
});
afterAll(async () => system?.stop());

const wallet = async (api: Api, id: string) => (await api.get(`/v1/wallets/${id}`)).body;
const operation = async (api: Api, id: string) => (await api.get(`/v1/operations/${id}`)).body;
const entriesOf = async (api: Api, id: string) =>
  (await api.get(`/v1/wallets/${id}/entries`)).body.data
    .reverse()
    .map((e: { operationId: string; amount: number; balanceAfter: number }) => [
      e.operationId,
      e.amount,
      e.balanceAfter,
    ]);
const settle = async (api: Api, r: { status: number; body: { id: string } }) => {
  expect(r.status).toBe(202);
  return api.settle(r.body.id);
};
/** Alice's wallet holding `amount`, and Bob's empty wallet. */
async function walletsWith(amount: number): Promise<{ a: string; b: string }> {
  const a = await newWallet(alice);
  const b = await newWallet(bob);
  expect((await settle(alice, await alice.topUp(a, amount))).status).toBe("succeeded");
  return { a, b };
}
/** Alice pays Bob `amount` of her `total`; the transfer, succeeded. */
async function paid(total: number, amount: number) {
  const { a, b } = await walletsWith(total);
  const transfer = await settle(alice, await alice.transfer(a, b, amount));
  expect(transfer).toMatchObject({ status: "succeeded", refundedAmount: 0, refundOf: null });
  return { a, b, transfer };
}

describe("a refund sends a transfer back", () => {
  it("all of it: the original reversed, two entries, refundedAmount = amount", async () => {
    const { a, b, transfer } = await paid(100, 60);
    const r = await bob.refund(transfer.id, undefined, { metadata: { reason: "returned" } });
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    expect(r.body).toMatchObject({ type: "refund", status: "pending", refundOf: transfer.id });
    const refund = await bob.settle(r.body.id);
    expect(refund).toMatchObject({
      type: "refund",
      status: "succeeded",
      amount: 60,
      currency: "USD",
      fromWalletId: b,
      toWalletId: a,
      holdId: null,
      hold: null,
      refundOf: transfer.id,
      refundedAmount: null,
      failure: null,
      metadata: { reason: "returned" },
    });
    expect(await wallet(alice, a)).toMatchObject({ balance: 100, version: 3 });
    expect(await wallet(bob, b)).toMatchObject({ balance: 0, version: 2 });
    expect(await entriesOf(alice, a)).toEqual([
      [expect.any(String), 100, 100],
      [transfer.id, -60, 40],
      [refund.id, 60, 100],
    ]);
    expect(await entriesOf(bob, b)).toEqual([
      [transfer.id, 60, 60],
      [refund.id, -60, 0],
    ]);
    expect(await operation(alice, transfer.id)).toMatchObject({ refundedAmount: 60, status: "succeeded" });
    await expectAuditClean(system);
  });

  it("in three parts, 30 + 20 + 10 of 60; a fourth of 1 fails amount_exceeds_refundable and moves nothing", async () => {
    const { a, b, transfer } = await paid(100, 60);
    for (const [amount, refunded] of [
      [30, 30],
      [20, 50],
      [10, 60],
    ] as const) {
      expect(await settle(bob, await bob.refund(transfer.id, amount))).toMatchObject({
        status: "succeeded",
        amount,
      });
      expect((await operation(alice, transfer.id)).refundedAmount).toBe(refunded);
    }
    const over = await settle(bob, await bob.refund(transfer.id, 1));
    expect(over).toMatchObject({
      status: "failed",
      failure: { code: "amount_exceeds_refundable", message: expect.any(String) },
    });
    expect(await wallet(alice, a)).toMatchObject({ balance: 100, version: 5 });
    expect(await wallet(bob, b)).toMatchObject({ balance: 0, version: 4 });
    expect((await entriesOf(bob, b)).map((e: unknown[]) => e[1])).toEqual([60, -30, -20, -10]);
    expect((await operation(alice, transfer.id)).refundedAmount).toBe(60);
    await expectAuditClean(system);
  });

  it("a refund of what was already spent fails insufficient_funds, refunds nothing, and succeeds once funded", async () => {
    const { a, b, transfer } = await paid(100, 50);
    const elsewhere = await newWallet(bob);
    expect((await settle(bob, await bob.transfer(b, elsewhere, 30))).status).toBe("succeeded");
    const short = await settle(bob, await bob.refund(transfer.id, 50));
    expect(short).toMatchObject({ status: "failed", failure: { code: "insufficient_funds" } });
    expect((await operation(alice, transfer.id)).refundedAmount).toBe(0);
    expect(await wallet(bob, b)).toMatchObject({ balance: 20, version: 2 });

    expect(await settle(bob, await bob.refund(transfer.id, 20))).toMatchObject({ status: "succeeded" });
    expect((await operation(alice, transfer.id)).refundedAmount).toBe(20);
    expect(await wallet(alice, a)).toMatchObject({ balance: 70 });
    expect(await wallet(bob, b)).toMatchObject({ balance: 0 });
    await expectAuditClean(system);
  });

  it("a credit past 2^53-1 fails balance_limit_exceeded, refunds nothing", async () => {
    const MAX = Number.MAX_SAFE_INTEGER;
    const { a, b, transfer } = await paid(MAX, 1);
    expect((await settle(alice, await alice.topUp(a, 1))).status).toBe("succeeded");
    const refund = await settle(bob, await bob.refund(transfer.id));
    expect(refund).toMatchObject({ status: "failed", failure: { code: "balance_limit_exceeded" } });
    expect(await wallet(alice, a)).toMatchObject({ balance: MAX });
    expect(await wallet(bob, b)).toMatchObject({ balance: 1 });
    expect((await operation(alice, transfer.id)).refundedAmount).toBe(0);
    await expectAuditClean(system);
  });

  it("a client refunds a transfer between its own wallets", async () => {
    const { a } = await walletsWith(40);
    const a2 = await newWallet(alice);
    const transfer = await settle(alice, await alice.transfer(a, a2, 40));
    expect(await settle(alice, await alice.refund(transfer.id, 15))).toMatchObject({
      status: "succeeded",
      fromWalletId: a2,
      toWalletId: a,
    });
    expect(await wallet(alice, a)).toMatchObject({ balance: 15 });
    expect(await wallet(alice, a2)).toMatchObject({ balance: 25 });
  });
});

describe("a refund sends a capture back", () => {
  it("to the hold's source, from its destination; the capture's refundedAmount grows", async () => {
    const { a, b } = await walletsWith(100);
    const hold = await settle(alice, await alice.hold(a, b, 80));
    const capture = await settle(alice, await alice.capture(hold.id, 50));
    expect(capture).toMatchObject({ status: "succeeded", refundedAmount: 0 });
    expect(hold.refundedAmount).toBeNull();
    const refund = await settle(bob, await bob.refund(capture.id, 20));
    expect(refund).toMatchObject({
      status: "succeeded",
      fromWalletId: b,
      toWalletId: a,
      refundOf: capture.id,
    });
    expect(await wallet(alice, a)).toMatchObject({ balance: 70, heldBalance: 0, version: 3 });
    expect(await wallet(bob, b)).toMatchObject({ balance: 30, version: 2 });
    expect((await operation(alice, capture.id)).refundedAmount).toBe(20);
    await expectAuditClean(system);
  });
});

describe("a refund is an operation like the others", () => {
  it("replayed under its key, listed under ?type=refund, refundedAmount null on other types", async () => {
    const { transfer } = await paid(10, 10);
    const first = await bob.refund(transfer.id, 4, {}, "refund-key-1");
    const again = await bob.refund(transfer.id, 4, {}, "refund-key-1");
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    await bob.settle(first.body.id);
    const listed = (await bob.get("/v1/operations?type=refund")).body.data;
    expect(listed.map((o: { id: string }) => o.id)).toContain(first.body.id);
    expect(listed.every((o: { type: string }) => o.type === "refund")).toBe(true);
    const topUps = (await alice.get("/v1/operations?type=top_up")).body.data;
    expect(topUps.length).toBeGreaterThan(0);
    expect(topUps.every((o: { refundedAmount: unknown }) => o.refundedAmount === null)).toBe(true);
    expect((await operation(alice, transfer.id)).refundedAmount).toBe(4);
  });

  it("in a bulk: refund items beside other types, applied in array order", async () => {
    const { a, b, transfer } = await paid(100, 100);
    const c = await newWallet(bob);
    const r = await bob.post("/v1/operations/bulk", {
      operations: [
        { type: "refund", idempotencyKey: "b-1", operationId: transfer.id, amount: 60 },
        { type: "transfer", idempotencyKey: "b-2", fromWalletId: b, toWalletId: c, amount: 50 },
        { type: "refund", idempotencyKey: "b-3", operationId: transfer.id },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.data.map((d: { status: number }) => d.status)).toEqual([202, 202, 202]);
    const [refund, spend, rest] = await Promise.all(
      r.body.data.map((d: { operation: { id: string } }) => bob.settle(d.operation.id)),
    );
    expect(refund).toMatchObject({ status: "succeeded", amount: 60 });
    // 40 left in b: the transfer of 50 fails, then a refund of the whole 100 passes the cap.
    expect(spend).toMatchObject({ status: "failed", failure: { code: "insufficient_funds" } });
    expect(rest).toMatchObject({ status: "failed", failure: { code: "amount_exceeds_refundable" } });
    expect(await wallet(alice, a)).toMatchObject({ balance: 60 });
    expect(await wallet(bob, b)).toMatchObject({ balance: 40 });
    expect((await operation(alice, transfer.id)).refundedAmount).toBe(60);
    await expectAuditClean(system);
  });
});
