import { describe, expect, it } from "vitest";
import { applicableNow, planBatch } from "../../worker/batch-plan.ts";
import type { PendingOperation } from "../../worker/batch-repo.ts";

const pending = (
  id: string,
  type: PendingOperation["type"],
  from: string | null,
  to: string | null,
  extra: Partial<PendingOperation> = {},
): PendingOperation => ({
  id,
  type,
  amount: 10n,
  currency: "EUR",
  fromWalletId: from,
  toWalletId: to,
  holdId: null,
  refundOf: null,
  expiresAt: type === "hold" ? 1n : null,
  createdAt: 0n,
  expiry: false,
  ageMs: 0,
  ...extra,
});
const transfer = (id: string, from: string, to: string) => pending(id, "transfer", from, to);
const plan = (ops: PendingOperation[]) => planBatch(ops, () => "F");
/** The wallets a batch could lock: every one but `busy`. */
const lockedBut = (ops: PendingOperation[], ...busy: string[]) =>
  new Map(
    plan(ops)
      .walletIds.filter((w) => !busy.includes(w))
      .map((w) => [w, w]),
  );
const ids = (ops: { id: string }[]) => ops.map((op) => op.id);

describe("applicableNow: what a batch applies without the wallets another batch holds", () => {
  it("everything, in order, when every wallet was locked", () => {
    const ops = [transfer("t1", "A", "B"), transfer("t2", "B", "C"), pending("u1", "top_up", null, "A")];
    const now = applicableNow(plan(ops), lockedBut(ops));
    expect(ids(now.operations)).toEqual(["t1", "t2", "u1"]);
    expect(now.deferred).toBe(0);
  });

  it("leaves the operations that need a busy wallet, and every later one sharing a wallet with those", () => {
    const ops = [
      transfer("t1", "A", "B"),
      transfer("t2", "C", "X"), // X is busy
      transfer("t3", "X", "D"), // after t2 on X
      transfer("t4", "D", "E"), // after t3 on D
      transfer("t5", "F", "G"),
      transfer("t6", "E", "A"), // after t4 on E
      transfer("t7", "A", "H"),
    ];
    const now = applicableNow(plan(ops), lockedBut(ops, "X"));
    expect(ids(now.operations)).toEqual(["t1", "t5"]);
    expect(now.deferred).toBe(5);
  });

  it("the oldest operation is no exception (the runner waits for its wallets before)", () => {
    const ops = [transfer("t1", "X", "A"), transfer("t2", "B", "C")];
    const now = applicableNow(plan(ops), lockedBut(ops, "X"));
    expect(ids(now.operations)).toEqual(["t2"]);
    expect(now.deferred).toBe(1);
  });

  it("a funding account is a wallet like any other", () => {
    const ops = [
      pending("u1", "top_up", null, "A"),
      transfer("t1", "B", "C"),
      pending("p1", "payout", "D", null),
    ];
    const now = applicableNow(plan(ops), lockedBut(ops, "F"));
    expect(ids(now.operations)).toEqual(["t1"]);
    expect(now.deferred).toBe(2);
  });

  it("a capture or void waits with its hold, a refund with an earlier refund of its original", () => {
    const ops = [
      pending("h1", "hold", "A", "X"),
      pending("c1", "capture", "A", "X", { holdId: "h1" }),
      pending("v2", "void", "B", "C", { holdId: "h2" }),
      pending("r1", "refund", "Y", "D", { refundOf: "o1" }),
      pending("r2", "refund", "E", "G", { refundOf: "o1" }),
      pending("c2", "capture", "B", "C", { holdId: "h2" }),
    ];
    // X and Y are busy. r2's wallets are free, but an earlier refund of o1 waits: r2 waits too,
    // as it would through the wallets they share in a real batch (both are the original's).
    const now = applicableNow(plan(ops), lockedBut(ops, "X", "Y"));
    expect(ids(now.operations)).toEqual(["v2", "c2"]);
    expect(now.deferred).toBe(4);
  });
});
