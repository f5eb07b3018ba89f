import { describe, expect, it } from "vitest";
import { applyBatch, type BatchOperation, type LockedWallet } from "../../worker/apply-batch.ts";

const MAX = 2n ** 53n - 1n;

const client = (id: string, balance: bigint, version = 0n, held = 0n): LockedWallet => ({
  id,
  kind: "client",
  balance,
  held,
  version,
});
const funding = (id: string, balance: bigint, version = 0n): LockedWallet => ({
  id,
  kind: "funding",
  balance,
  held: 0n,
  version,
});
const lockedMap = (...wallets: LockedWallet[]) => new Map(wallets.map((w) => [w.id, w]));
const op = (id: string, debitWalletId: string, creditWalletId: string, amount: bigint): BatchOperation => ({
  kind: "move",
  id,
  amount,
  debitWalletId,
  creditWalletId,
});

/** Every entry, and every operation's entries, sum to zero. */
function expectDoubleEntry(entries: { operationId: string; amount: bigint }[]): void {
  expect(entries.reduce((s, e) => s + e.amount, 0n)).toBe(0n);
  const perOp = new Map<string, bigint>();
  for (const e of entries) perOp.set(e.operationId, (perOp.get(e.operationId) ?? 0n) + e.amount);
  for (const sum of perOp.values()) expect(sum).toBe(0n);
}

describe("applyBatch: successes", () => {
  it("a top-up debits the funding account and credits the wallet, a transfer moves the money on", () => {
    const locked = lockedMap(funding("F", 0n), client("A", 0n), client("B", 5n, 1n));
    const result = applyBatch([op("t1", "F", "A", 100n), op("x1", "A", "B", 30n)], locked);

    expect(result.outcomes).toEqual([
      { operationId: "t1", status: "succeeded" },
      { operationId: "x1", status: "succeeded" },
    ]);
    expect(result.entries).toEqual([
      { operationId: "t1", walletId: "F", amount: -100n, balanceAfter: -100n, walletVersion: 1n },
      { operationId: "t1", walletId: "A", amount: 100n, balanceAfter: 100n, walletVersion: 1n },
      { operationId: "x1", walletId: "A", amount: -30n, balanceAfter: 70n, walletVersion: 2n },
      { operationId: "x1", walletId: "B", amount: 30n, balanceAfter: 35n, walletVersion: 2n },
    ]);
    expect(result.changedWallets).toEqual([
      funding("F", -100n, 1n),
      client("A", 70n, 2n),
      client("B", 35n, 2n),
    ]);
    expectDoubleEntry(result.entries);
  });

  it("a debit of exactly the balance succeeds and leaves 0", () => {
    const result = applyBatch([op("x", "A", "B", 40n)], lockedMap(client("A", 40n), client("B", 0n)));
    expect(result.outcomes).toEqual([{ operationId: "x", status: "succeeded" }]);
    expect(result.changedWallets).toEqual([client("A", 0n, 1n), client("B", 40n, 1n)]);
  });

  it("does not modify the locked rows it was given", () => {
    const locked = lockedMap(client("A", 10n, 3n), client("B", 0n, 0n));
    applyBatch([op("x", "A", "B", 10n)], locked);
    expect(locked.get("A")).toEqual(client("A", 10n, 3n));
    expect(locked.get("B")).toEqual(client("B", 0n, 0n));
  });

  it("throws when an operation names a wallet that was not locked", () => {
    expect(() => applyBatch([op("x", "A", "Z", 1n)], lockedMap(client("A", 10n)))).toThrow(
      "wallet Z was not locked for the batch",
    );
  });

  it("an empty batch changes nothing", () => {
    expect(applyBatch([], lockedMap(client("A", 1n)))).toEqual({
      outcomes: [],
      entries: [],
      changedWallets: [],
      changedHolds: [],
      changedRefundables: [],
    });
  });
});

describe("applyBatch: refunds", () => {
  const refund = (id: string, amount: bigint, originalId = "T"): BatchOperation => ({
    kind: "refund",
    id,
    amount,
    debitWalletId: "B",
    creditWalletId: "A",
    originalId,
  });
  const original = (amount: bigint, refunded: bigint) => new Map([["T", { id: "T", amount, refunded }]]);

  it("moves the money back and keeps a running refunded sum; a refund past what is left fails and moves nothing", () => {
    const result = applyBatch(
      [refund("r1", 60n), refund("r2", 30n), refund("r3", 20n), refund("r4", 10n)],
      lockedMap(client("A", 0n), client("B", 200n)),
      new Map(),
      original(100n, 0n),
    );
    expect(result.outcomes).toEqual([
      { operationId: "r1", status: "succeeded" },
      { operationId: "r2", status: "succeeded" },
      { operationId: "r3", status: "failed", failureCode: "amount_exceeds_refundable" },
      { operationId: "r4", status: "succeeded" },
    ]);
    expect(result.changedRefundables).toEqual([{ id: "T", amount: 100n, refunded: 100n }]);
    expect(result.changedWallets).toEqual([client("B", 100n, 3n), client("A", 100n, 3n)]);
    expectDoubleEntry(result.entries);
  });

  it("starts from the original's refunded sum as locked", () => {
    const result = applyBatch(
      [refund("r1", 11n), refund("r2", 10n)],
      lockedMap(client("A", 0n), client("B", 50n)),
      new Map(),
      original(100n, 90n),
    );
    expect(result.outcomes.map((o) => o.status)).toEqual(["failed", "succeeded"]);
    expect(result.changedRefundables).toEqual([{ id: "T", amount: 100n, refunded: 100n }]);
  });

  it("a refund that fails on funds or the balance limit refunds nothing", () => {
    const result = applyBatch(
      [refund("r1", 30n), refund("r2", 5n)],
      lockedMap(client("A", MAX - 4n), client("B", 20n)),
      new Map(),
      original(100n, 0n),
    );
    expect(result.outcomes).toEqual([
      { operationId: "r1", status: "failed", failureCode: "insufficient_funds" },
      { operationId: "r2", status: "failed", failureCode: "balance_limit_exceeded" },
    ]);
    expect(result.changedRefundables).toEqual([]);
    expect(result.entries).toEqual([]);
  });

  it("throws when the original was not locked", () => {
    expect(() =>
      applyBatch(
        [refund("r1", 1n, "U")],
        lockedMap(client("A", 0n), client("B", 5n)),
        new Map(),
        original(9n, 0n),
      ),
    ).toThrow("original U was not locked for the batch");
  });
});

describe("applyBatch: insufficient_funds against running balances", () => {
  it("a failure in the middle of a batch sees exactly what the operations before it left", () => {
    const locked = lockedMap(client("A", 100n, 7n), client("B", 0n));
    const result = applyBatch(
      [
        op("o1", "A", "B", 60n), // A 100 → 40
        op("o2", "A", "B", 50n), // 50 > 40: fails
        op("o3", "A", "B", 40n), // A 40 → 0
        op("o4", "A", "B", 1n), // 1 > 0: fails
        op("o5", "B", "A", 25n), // B 100 → 75, A 0 → 25
        op("o6", "A", "B", 25n), // A 25 → 0
      ],
      locked,
    );

    expect(result.outcomes).toEqual([
      { operationId: "o1", status: "succeeded" },
      { operationId: "o2", status: "failed", failureCode: "insufficient_funds" },
      { operationId: "o3", status: "succeeded" },
      { operationId: "o4", status: "failed", failureCode: "insufficient_funds" },
      { operationId: "o5", status: "succeeded" },
      { operationId: "o6", status: "succeeded" },
    ]);
    // A failed operation has no entries; versions stay gapless.
    expect(result.entries.map((e) => [e.operationId, e.walletId, e.balanceAfter, e.walletVersion])).toEqual([
      ["o1", "A", 40n, 8n],
      ["o1", "B", 60n, 1n],
      ["o3", "A", 0n, 9n],
      ["o3", "B", 100n, 2n],
      ["o5", "B", 75n, 3n],
      ["o5", "A", 25n, 10n],
      ["o6", "A", 0n, 11n],
      ["o6", "B", 100n, 4n],
    ]);
    expect(result.changedWallets).toEqual([client("A", 0n, 11n), client("B", 100n, 4n)]);
    expectDoubleEntry(result.entries);
  });

  it("insufficient_funds is reported before balance_limit_exceeded", () => {
    const result = applyBatch([op("x", "A", "B", 10n)], lockedMap(client("A", 5n), client("B", MAX)));
    expect(result.outcomes).toEqual([
      { operationId: "x", status: "failed", failureCode: "insufficient_funds" },
    ]);
  });

  it("wallets touched only by failed operations are not reported as changed", () => {
    const result = applyBatch([op("x", "A", "B", 10n)], lockedMap(client("A", 5n), client("B", 0n)));
    expect(result.entries).toEqual([]);
    expect(result.changedWallets).toEqual([]);
  });
});

describe("applyBatch: balance_limit_exceeded (2^53-1)", () => {
  it("a credit that would pass 2^53-1 fails and moves nothing; one that reaches it exactly succeeds", () => {
    const locked = lockedMap(funding("F", 0n), client("A", 100n), client("B", MAX - 10n, 2n));
    const result = applyBatch(
      [
        op("t-over", "F", "B", 11n), // top-up: MAX + 1
        op("x-over", "A", "B", 11n), // transfer: MAX + 1, A keeps its 100
        op("x-exact", "A", "B", 10n), // B reaches MAX exactly
        op("x-one-more", "A", "B", 1n), // B would be MAX + 1
      ],
      locked,
    );
    expect(result.outcomes).toEqual([
      { operationId: "t-over", status: "failed", failureCode: "balance_limit_exceeded" },
      { operationId: "x-over", status: "failed", failureCode: "balance_limit_exceeded" },
      { operationId: "x-exact", status: "succeeded" },
      { operationId: "x-one-more", status: "failed", failureCode: "balance_limit_exceeded" },
    ]);
    expect(result.entries).toEqual([
      { operationId: "x-exact", walletId: "A", amount: -10n, balanceAfter: 90n, walletVersion: 1n },
      { operationId: "x-exact", walletId: "B", amount: 10n, balanceAfter: MAX, walletVersion: 3n },
    ]);
    expect(result.changedWallets).toEqual([client("A", 90n, 1n), client("B", MAX, 3n)]);
  });

  it("a wallet at 2^53-1 can be credited again once it has been debited in the same batch", () => {
    const locked = lockedMap(client("A", MAX), client("B", 1n));
    const result = applyBatch(
      [op("x1", "B", "A", 1n), op("x2", "A", "B", 5n), op("x3", "B", "A", 5n)],
      locked,
    );
    expect(result.outcomes).toEqual([
      { operationId: "x1", status: "failed", failureCode: "balance_limit_exceeded" },
      { operationId: "x2", status: "succeeded" },
      { operationId: "x3", status: "succeeded" },
    ]);
    expect(result.changedWallets).toEqual([client("A", MAX, 2n), client("B", 1n, 2n)]);
  });
});

describe("applyBatch: funding accounts beyond -2^53", () => {
  it("keeps exact BigInt balances far below -2^53 (here -2^60)", () => {
    const start = -(2n ** 60n);
    const locked = lockedMap(funding("F", start, 41n), client("A", 0n), client("B", 0n), client("C", 0n));
    const result = applyBatch(
      [op("t1", "F", "A", MAX), op("t2", "F", "B", MAX), op("t3", "F", "C", 1n), op("t4", "F", "A", 1n)],
      locked,
    );

    expect(result.outcomes.map((o) => o.status)).toEqual(["succeeded", "succeeded", "succeeded", "failed"]);
    expect(result.outcomes[3]).toEqual({
      operationId: "t4",
      status: "failed",
      failureCode: "balance_limit_exceeded",
    });
    const fundingEntries = result.entries.filter((e) => e.walletId === "F");
    expect(fundingEntries).toEqual([
      { operationId: "t1", walletId: "F", amount: -MAX, balanceAfter: start - MAX, walletVersion: 42n },
      { operationId: "t2", walletId: "F", amount: -MAX, balanceAfter: start - 2n * MAX, walletVersion: 43n },
      {
        operationId: "t3",
        walletId: "F",
        amount: -1n,
        balanceAfter: start - 2n * MAX - 1n,
        walletVersion: 44n,
      },
    ]);
    // -1152921504606846976 - 18014398509481982 - 1: exact, where a JS number would round.
    expect(start - 2n * MAX - 1n).toBe(-1_170_935_903_116_328_959n);
    expect(result.changedWallets).toEqual([
      funding("F", -1_170_935_903_116_328_959n, 44n),
      client("A", MAX, 1n),
      client("B", MAX, 1n),
      client("C", 1n, 1n),
    ]);
    expectDoubleEntry(result.entries);
  });
});

describe("applyBatch: funding accounts at Postgres's bigint bounds", () => {
  it("a top-up that would take the funding account below -2^63 fails alone; one that reaches it succeeds", () => {
    const floor = -(2n ** 63n);
    const locked = lockedMap(funding("F", floor + 10n, 3n), client("A", 0n));
    const result = applyBatch(
      [op("t1", "F", "A", 5n), op("t2", "F", "A", 10n), op("t3", "F", "A", 5n), op("t4", "F", "A", 1n)],
      locked,
    );
    expect(result.outcomes.map((o) => (o.status === "failed" ? o.failureCode : o.status))).toEqual([
      "succeeded",
      "balance_limit_exceeded",
      "succeeded",
      "balance_limit_exceeded",
    ]);
    expect(result.changedWallets).toEqual([funding("F", floor, 5n), client("A", 10n, 2n)]);
    expectDoubleEntry(result.entries);
  });

  it("a credit that would take a funding account past 2^63-1 fails", () => {
    const locked = lockedMap(client("A", 100n), funding("F", 2n ** 63n - 50n));
    const result = applyBatch([op("p1", "A", "F", 60n), op("p2", "A", "F", 49n)], locked);
    expect(result.outcomes).toEqual([
      { operationId: "p1", status: "failed", failureCode: "balance_limit_exceeded" },
      { operationId: "p2", status: "succeeded" },
    ]);
  });
});

describe("applyBatch: versions and double entry", () => {
  it("each entry bumps its wallet's version by one, in posting order", () => {
    const locked = lockedMap(funding("F", 0n, 10n), client("A", 0n, 3n), client("B", 0n, 0n));
    const ops = [
      op("t1", "F", "A", 5n),
      op("t2", "F", "A", 5n),
      op("x1", "A", "B", 3n),
      op("x2", "A", "B", 3n),
      op("x3", "B", "A", 6n),
    ];
    const result = applyBatch(ops, locked);
    expect(result.outcomes.every((o) => o.status === "succeeded")).toBe(true);

    for (const wallet of locked.values()) {
      const own = result.entries.filter((e) => e.walletId === wallet.id);
      // Versions run on from the locked version without gaps; balanceAfter is a running sum.
      expect(own.map((e) => e.walletVersion)).toEqual(own.map((_, i) => wallet.version + BigInt(i + 1)));
      let balance = wallet.balance;
      for (const e of own) {
        balance += e.amount;
        expect(e.balanceAfter).toBe(balance);
      }
      const changed = result.changedWallets.find((w) => w.id === wallet.id);
      expect(changed).toEqual({ ...wallet, balance, version: wallet.version + BigInt(own.length) });
    }
    expect(result.entries).toHaveLength(2 * ops.length);
    expectDoubleEntry(result.entries);
  });
});

describe("applyBatch: holds, captures and voids", () => {
  const T0 = BigInt(Date.parse("2026-12-01T00:00:00Z")) * 1000n;
  const LATER = BigInt(Date.parse("2026-12-08T00:00:00Z")) * 1000n;
  const holdOp = (id: string, walletId: string, toWalletId: string, amount: bigint): BatchOperation => ({
    kind: "hold",
    id,
    amount,
    walletId,
    toWalletId,
    expiresAt: LATER,
  });
  const capture = (id: string, holdId: string, amount: bigint, acceptedAt = T0): BatchOperation => ({
    kind: "capture",
    id,
    amount,
    holdId,
    acceptedAt,
  });
  const release = (id: string, holdId: string, expiry = false, acceptedAt = T0): BatchOperation => ({
    kind: "release",
    id,
    holdId,
    acceptedAt,
    expiry,
  });
  const statuses = (r: ReturnType<typeof applyBatch>) =>
    r.outcomes.map((o) => (o.status === "failed" ? o.failureCode : o.status));

  it("hold 70 of 100: available 30; a transfer of 40 fails, one of 30 succeeds; capture 50 moves 50 and releases 20", () => {
    const result = applyBatch(
      [
        holdOp("h", "A", "B", 70n),
        op("t40", "A", "C", 40n),
        op("t30", "A", "C", 30n),
        capture("c", "h", 50n),
      ],
      lockedMap(client("A", 100n, 1n), client("B", 0n), client("C", 0n)),
    );
    expect(statuses(result)).toEqual(["succeeded", "insufficient_funds", "succeeded", "succeeded"]);
    expect(
      result.entries.map((e) => [e.operationId, e.walletId, e.amount, e.balanceAfter, e.walletVersion]),
    ).toEqual([
      ["t30", "A", -30n, 70n, 2n],
      ["t30", "C", 30n, 30n, 1n],
      ["c", "A", -50n, 20n, 3n],
      ["c", "B", 50n, 50n, 1n],
    ]);
    expect(result.changedWallets).toEqual([
      client("A", 20n, 3n, 0n),
      client("C", 30n, 1n),
      client("B", 50n, 1n),
    ]);
    expect(result.changedHolds).toEqual([
      {
        id: "h",
        fromWalletId: "A",
        toWalletId: "B",
        amount: 70n,
        status: "captured",
        expiresAt: LATER,
        capturedAmount: 50n,
      },
    ]);
    expectDoubleEntry(result.entries);
  });

  it("a hold beyond the available balance fails insufficient_funds and reserves nothing", () => {
    const result = applyBatch(
      [holdOp("h", "A", "B", 11n)],
      lockedMap(client("A", 20n, 1n, 10n), client("B", 0n)),
    );
    expect(statuses(result)).toEqual(["insufficient_funds"]);
    expect(result.changedWallets).toEqual([]);
    expect(result.changedHolds).toEqual([]);
  });

  it("a void releases without an entry; a second void and a capture after it fail hold_not_active", () => {
    const active = {
      id: "h",
      fromWalletId: "A",
      toWalletId: "B",
      amount: 60n,
      status: "active" as const,
      expiresAt: LATER,
      capturedAmount: null,
    };
    const result = applyBatch(
      [release("v1", "h"), release("v2", "h"), capture("c", "h", 10n)],
      lockedMap(client("A", 100n, 4n, 60n), client("B", 0n)),
      new Map([["h", active]]),
    );
    expect(statuses(result)).toEqual(["succeeded", "hold_not_active", "hold_not_active"]);
    expect(result.entries).toEqual([]);
    expect(result.changedWallets).toEqual([client("A", 100n, 4n, 0n)]);
    expect(result.changedHolds).toEqual([{ ...active, status: "voided" }]);
  });

  it("the sweeper's void expires a hold; a capture or client void accepted at its expiry finds it inactive", () => {
    const active = {
      id: "h",
      fromWalletId: "A",
      toWalletId: "B",
      amount: 5n,
      status: "active" as const,
      expiresAt: LATER,
      capturedAmount: null,
    };
    const locked = lockedMap(client("A", 5n, 1n, 5n), client("B", 0n));
    const late = applyBatch(
      [capture("c", "h", 5n, LATER), release("v", "h", false, LATER)],
      locked,
      new Map([["h", active]]),
    );
    expect(statuses(late)).toEqual(["hold_not_active", "hold_not_active"]);
    const expired = applyBatch(
      [release("x", "h", true, LATER), capture("c", "h", 5n)],
      locked,
      new Map([["h", active]]),
    );
    expect(statuses(expired)).toEqual(["succeeded", "hold_not_active"]);
    expect(expired.changedHolds).toEqual([{ ...active, status: "expired" }]);
    expect(expired.changedWallets).toEqual([client("A", 5n, 1n, 0n)]);
  });

  it("a capture whose destination would pass 2^53-1 fails and leaves the hold active", () => {
    const active = {
      id: "h",
      fromWalletId: "A",
      toWalletId: "B",
      amount: 10n,
      status: "active" as const,
      expiresAt: LATER,
      capturedAmount: null,
    };
    const result = applyBatch(
      [capture("c", "h", 10n), release("v", "h")],
      lockedMap(client("A", 10n, 1n, 10n), client("B", MAX - 5n, 1n)),
      new Map([["h", active]]),
    );
    expect(statuses(result)).toEqual(["balance_limit_exceeded", "succeeded"]);
    expect(result.entries).toEqual([]);
  });

  it("a capture or void of a hold that does not exist (its hold operation failed) fails hold_not_active", () => {
    const result = applyBatch([capture("c", "h", 1n), release("v", "h")], lockedMap(client("A", 10n)));
    expect(statuses(result)).toEqual(["hold_not_active", "hold_not_active"]);
  });

  it("a payout is a move to the funding account; it needs available funds", () => {
    const result = applyBatch(
      [op("p1", "A", "F", 8n), op("p2", "A", "F", 1n)],
      lockedMap(client("A", 10n, 1n, 2n), funding("F", -10n, 1n)),
    );
    expect(statuses(result)).toEqual(["succeeded", "insufficient_funds"]);
    expect(result.changedWallets).toEqual([client("A", 2n, 2n, 2n), funding("F", -2n, 2n)]);
  });
});
