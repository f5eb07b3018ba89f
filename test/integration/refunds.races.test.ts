import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadlockCount } from "../../shared/db/settings-repo.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * However many refunds of one original arrive at once, singly or in bulks, their succeeded sum
 * never passes its amount (docs/api.md, "Refunds"); a refund and a spend of the same money: one wins.
 * Two worker processes, a small batch cap so that the refunds of one original span batches.
 */

let system: TestSystem;
let alice: Api;
let bob: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, batchCap: 7, workerProcesses: 2 });
  alice = await newClient(system, "alice");
  bob = await newClient(system, "bob");
});
afterAll(async () => system?.stop());

const balance = async (api: Api, id: string) => (await api.get(`/v1/wallets/${id}`)).body.balance;
const operation = async (api: Api, id: string) => (await api.get(`/v1/operations/${id}`)).body;

/** Alice's wallet paid Bob's `amount`; both wallets and the transfer's id. */
async function paid(amount: number, bobHas = 0) {
  const a = await newWallet(alice);
  const b = await newWallet(bob);
  await alice.settle((await alice.topUp(a, amount)).body.id);
  if (bobHas > 0) await bob.settle((await bob.topUp(b, bobHas)).body.id);
  const t = await alice.settle((await alice.transfer(a, b, amount)).body.id);
  expect(t.status).toBe("succeeded");
  return { a, b, transfer: t.id as string };
}

/** The final states of these refunds. */
async function outcomes(ids: string[]) {
  await waitAllSettled(system);
  return Promise.all(ids.map((id) => operation(bob, id)));
}

describe("concurrent refunds of one original", () => {
  it("40 refunds of 10 against 100, Bob holding 1,000 more: exactly 10 succeed, the rest fail amount_exceeds_refundable", async () => {
    const { a, b, transfer } = await paid(100, 1_000);
    const deadlocks = await deadlockCount(system.db);
    const sent = await Promise.all(Array.from({ length: 40 }, () => bob.refund(transfer, 10)));
    expect(sent.map((r) => r.status)).toEqual(Array(40).fill(202));
    const done = await outcomes(sent.map((r) => r.body.id));
    const succeeded = done.filter((o) => o.status === "succeeded");
    expect(succeeded).toHaveLength(10);
    expect(
      done.filter((o) => o.status === "failed").every((o) => o.failure.code === "amount_exceeds_refundable"),
    ).toBe(true);
    expect((await operation(alice, transfer)).refundedAmount).toBe(100);
    expect(await balance(alice, a)).toBe(100);
    expect(await balance(bob, b)).toBe(1_000);
    await expectAuditClean(system);
    expect(await deadlockCount(system.db)).toBe(deadlocks);
  });

  it("single requests and bulk items mixed, of varied amounts: the succeeded sum is at most the original, never over", async () => {
    const { a, b, transfer } = await paid(500, 2_000);
    const amounts = Array.from({ length: 60 }, (_, i) => 1 + ((i * 37) % 40));
    const singles = amounts.slice(0, 30).map((amount) => bob.refund(transfer, amount));
    const bulks = [amounts.slice(30, 45), amounts.slice(45)].map((part) =>
      bob.post("/v1/operations/bulk", {
        operations: part.map((amount) => ({
          type: "refund",
          idempotencyKey: randomUUID(),
          operationId: transfer,
          amount,
        })),
      }),
    );
    const [singleReplies, bulkReplies] = await Promise.all([Promise.all(singles), Promise.all(bulks)]);
    const ids = [
      ...singleReplies.map((r) => r.body.id as string),
      ...bulkReplies.flatMap((r) => r.body.data.map((d: { operation: { id: string } }) => d.operation.id)),
    ];
    expect(ids).toHaveLength(60);
    const done = await outcomes(ids);
    const refunded = done.filter((o) => o.status === "succeeded").reduce((s, o) => s + o.amount, 0);
    expect(refunded).toBeLessThanOrEqual(500);
    // Exact, in acceptance order: each refund succeeded if and only if it fitted what was left.
    const inOrder = await system.db.execute<{ amount: string; status: string; code: string | null }>(
      sql`SELECT amount::text, status, failure_code AS code FROM operations WHERE refund_of = ${transfer} ORDER BY seq`,
    );
    expect(inOrder.rows).toHaveLength(60);
    let left = 500;
    for (const o of inOrder.rows) {
      const fits = Number(o.amount) <= left;
      expect([o.status, o.code]).toEqual(
        fits ? ["succeeded", null] : ["failed", "amount_exceeds_refundable"],
      );
      if (fits) left -= Number(o.amount);
    }
    expect((await operation(alice, transfer)).refundedAmount).toBe(refunded);
    expect(await balance(alice, a)).toBe(refunded);
    expect(await balance(bob, b)).toBe(2_000 + 500 - refunded);
    await expectAuditClean(system);
  });

  it("the same refund sent 20 times at once under one key: one operation", async () => {
    const { transfer } = await paid(30);
    const key = randomUUID();
    const replies = await Promise.all(Array.from({ length: 20 }, () => bob.refund(transfer, 30, {}, key)));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    const [refund] = await outcomes([replies[0]?.body.id]);
    expect(refund.status).toBe("succeeded");
    expect((await operation(alice, transfer)).refundedAmount).toBe(30);
    await expectAuditClean(system);
  });
});

describe("a refund racing a spend of the same money", () => {
  it("20 times over: Bob refunds the 100 and sends it on at once; exactly one succeeds, insufficient_funds for the other", async () => {
    for (let i = 0; i < 20; i++) {
      const { a, b, transfer } = await paid(100);
      const elsewhere = await newWallet(bob);
      const [refund, spend] = await Promise.all([bob.refund(transfer), bob.transfer(b, elsewhere, 100)]);
      const [r, s] = await outcomes([refund.body.id, spend.body.id]);
      expect([r.status, s.status].sort()).toEqual(["failed", "succeeded"]);
      const loser = r.status === "failed" ? r : s;
      expect(loser.failure.code).toBe("insufficient_funds");
      expect(await balance(bob, b)).toBe(0);
      expect(await balance(alice, a)).toBe(r.status === "succeeded" ? 100 : 0);
      expect(await balance(bob, elsewhere)).toBe(s.status === "succeeded" ? 100 : 0);
      expect((await operation(alice, transfer)).refundedAmount).toBe(r.status === "succeeded" ? 100 : 0);
    }
    await expectAuditClean(system);
  });
});
