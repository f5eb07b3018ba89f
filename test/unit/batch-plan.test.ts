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
  partition: 0,
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
  queuedAt: "(0,1)",
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

describe("planBatch: a batch of several partitions", () => {
  const inPartition = (partition: number, op: PendingOperation): PendingOperation => ({ ...op, partition });
  const ops = [
    inPartition(0, transfer("a1", "A", "B")),
    inPartition(0, transfer("a2", "A", "C")),
    inPartition(1, transfer("b1", "D", "B")),
    inPartition(1, transfer("b2", "D", "E")),
    inPartition(2, pending("c1", "top_up", null, "G")),
  ];

  it("puts each partition's oldest operation first; it waits for the first one's wallets and those of the heads in `waits`", () => {
    const p = planBatch(ops, (partition) => `F${partition}`);
    expect(ids(p.operations)).toEqual(["a1", "b1", "c1", "a2", "b2"]);
    expect(p.headWallets).toEqual(["A", "B"]);
    expect(planBatch(ops, (partition) => `F${partition}`, new Set([2])).headWallets).toEqual([
      "A",
      "B",
      "F2",
      "G",
    ]);
  });

  it("every head whose wallets it took is applied, whatever later operations wait for (each partition's funding account its own)", () => {
    const p = planBatch(ops, (partition) => `F${partition}`);
    // a2 waits for C; b2 for E. The heads share B.
    const locked = new Map(["A", "B", "D", "F2", "G"].map((w) => [w, w]));
    const now = applicableNow(p, locked);
    expect(ids(now.operations)).toEqual(["a1", "b1", "c1"]);
    expect(now.deferred).toBe(2);
  });

  it("a head it did not wait for and could not take waits, with what shares its wallets", () => {
    const p = planBatch(ops, (partition) => `F${partition}`);
    // D is busy: b1 and b2 (D's) wait; the rest applies.
    const locked = new Map(["A", "B", "C", "E", "F2", "G"].map((w) => [w, w]));
    const now = applicableNow(p, locked);
    expect(ids(now.operations)).toEqual(["a1", "c1", "a2"]);
    expect(now.deferred).toBe(2);
  });
});
