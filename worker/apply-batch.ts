import type { HoldStatus } from "../shared/db/schema/index.ts";
import { MAX_AMOUNT } from "../shared/money.ts";
import type { Micros } from "./micros.ts";

/** Postgres's bigint: the range every balance, a funding account's included, must stay in. */
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/**
 * A pending operation as the runner applies it:
 * - `move`: money from one wallet to another (a top-up from the funding account, a transfer, a
 *   payout to the funding account), checked against the debited wallet's available balance;
 * - `hold`: reserves `amount` of the wallet's available balance, no entry;
 * - `capture`: moves `amount` of an active hold from its source to its destination and releases
 *   the rest of it;
 * - `release`: a void (by the client, or by the sweeper once the hold expired) releases it all.
 * - `refund`: a move back along a transfer or capture, also checked against what is left of its
 *   original (`amount - refundedAmount`), a running sum like a balance.
 * A capture or a client's void accepted at or after the hold's expiry finds it no longer active.
 */
export type BatchOperation =
  | { kind: "move"; id: string; amount: bigint; debitWalletId: string; creditWalletId: string }
  | { kind: "hold"; id: string; amount: bigint; walletId: string; toWalletId: string; expiresAt: Micros }
  | { kind: "capture"; id: string; amount: bigint; holdId: string; acceptedAt: Micros }
  | { kind: "release"; id: string; holdId: string; acceptedAt: Micros; expiry: boolean }
  | {
      kind: "refund";
      id: string;
      amount: bigint;
      debitWalletId: string;
      creditWalletId: string;
      originalId: string;
    };

/** A refund's original as the batch sees it (locked): its amount and the sum of its succeeded refunds. */
export interface Refundable {
  id: string;
  amount: bigint;
  refunded: bigint;
}

/** A wallet row locked for the batch. Funding accounts have no business bounds and hold nothing. */
export interface LockedWallet {
  id: string;
  kind: "client" | "funding";
  balance: bigint;
  /** Minor units reserved by active holds. */
  held: bigint;
  version: bigint;
}

/** A hold as the batch sees it: read (locked) from the holds table, or placed by this batch. */
export interface HoldState {
  /** The hold operation's id. */
  id: string;
  fromWalletId: string;
  toWalletId: string;
  amount: bigint;
  status: HoldStatus;
  expiresAt: Micros;
  capturedAmount: bigint | null;
}

export type ApplyFailure =
  | "insufficient_funds"
  | "balance_limit_exceeded"
  | "hold_not_active"
  | "amount_exceeds_refundable";

export type Outcome =
  | { operationId: string; status: "succeeded" }
  | { operationId: string; status: "failed"; failureCode: ApplyFailure };

export interface EntryDraft {
  operationId: string;
  walletId: string;
  /** Signed minor units. */
  amount: bigint;
  balanceAfter: bigint;
  walletVersion: bigint;
}

export interface BatchResult {
  outcomes: Outcome[];
  entries: EntryDraft[];
  /** Final balance, held amount and version of every wallet the batch changed. */
  changedWallets: LockedWallet[];
  /** Final state of every hold the batch placed or resolved. */
  changedHolds: HoldState[];
  /** Final refunded sum of every original the batch refunded. */
  changedRefundables: Refundable[];
}

/**
 * Applies operations one after another, in the given (acceptance) order, against running
 * balances, held amounts and holds. Pure: no I/O. A failure in the middle of a batch sees
 * exactly what the operations before it left, so outcomes equal those of applying them one at a
 * time; a hold and a transfer from one wallet in one batch see each other.
 */
export function applyBatch(
  operations: readonly BatchOperation[],
  locked: ReadonlyMap<string, LockedWallet>,
  lockedHolds: ReadonlyMap<string, HoldState> = new Map(),
  lockedOriginals: ReadonlyMap<string, Refundable> = new Map(),
): BatchResult {
  // The batch's own copies of the locked rows, made when an operation first touches one.
  const wallets = new Copies(locked);
  const holds = new Copies(lockedHolds);
  const originals = new Copies(lockedOriginals);
  const wallet = (id: string): LockedWallet => wallets.get(id) ?? notLocked("wallet", id);
  const hold = (id: string): HoldState | undefined => holds.get(id);
  const original = (id: string): Refundable => originals.get(id) ?? notLocked("original", id);

  const outcomes: Outcome[] = [];
  const entries: EntryDraft[] = [];
  const changedWallets = new Set<string>();
  const changedHolds = new Set<string>();
  const changedOriginals = new Set<string>();

  const post = (op: { id: string }, debit: LockedWallet, credit: LockedWallet, amount: bigint): void => {
    for (const [w, delta] of [
      [debit, -amount],
      [credit, amount],
    ] as const) {
      w.balance += delta;
      w.version += 1n;
      changedWallets.add(w.id);
      entries.push({
        operationId: op.id,
        walletId: w.id,
        amount: delta,
        balanceAfter: w.balance,
        walletVersion: w.version,
      });
    }
  };

  const move = (op: { id: string; amount: bigint; debitWalletId: string; creditWalletId: string }) => {
    const debit = wallet(op.debitWalletId);
    const credit = wallet(op.creditWalletId);
    if (debit.kind === "client" && debit.balance - debit.held < op.amount) return "insufficient_funds";
    if (!canCredit(credit, op.amount) || debit.balance - op.amount < BIGINT_MIN)
      return "balance_limit_exceeded";
    post(op, debit, credit, op.amount);
    return "succeeded";
  };

  const apply = (op: BatchOperation): "succeeded" | ApplyFailure => {
    switch (op.kind) {
      case "move":
        return move(op);
      case "refund": {
        const o = original(op.originalId);
        if (o.refunded + op.amount > o.amount) return "amount_exceeds_refundable";
        const result = move(op);
        if (result !== "succeeded") return result;
        o.refunded += op.amount;
        changedOriginals.add(o.id);
        return result;
      }
      case "hold": {
        const source = wallet(op.walletId);
        if (source.balance - source.held < op.amount) return "insufficient_funds";
        source.held += op.amount;
        changedWallets.add(source.id);
        const placed: HoldState = {
          id: op.id,
          fromWalletId: op.walletId,
          toWalletId: op.toWalletId,
          amount: op.amount,
          status: "active",
          expiresAt: op.expiresAt,
          capturedAmount: null,
        };
        holds.add(placed);
        changedHolds.add(op.id);
        return "succeeded";
      }
      case "capture": {
        const h = hold(op.holdId);
        if (h?.status !== "active" || op.acceptedAt >= h.expiresAt) return "hold_not_active";
        if (op.amount > h.amount)
          throw new Error(`capture ${op.id} exceeds its hold (checked at acceptance)`);
        const source = wallet(h.fromWalletId);
        const destination = wallet(h.toWalletId);
        if (!canCredit(destination, op.amount)) return "balance_limit_exceeded";
        source.held -= h.amount;
        post(op, source, destination, op.amount);
        h.status = "captured";
        h.capturedAmount = op.amount;
        changedHolds.add(h.id);
        return "succeeded";
      }
      case "release": {
        const h = hold(op.holdId);
        if (h?.status !== "active" || (!op.expiry && op.acceptedAt >= h.expiresAt)) return "hold_not_active";
        const source = wallet(h.fromWalletId);
        source.held -= h.amount;
        changedWallets.add(source.id);
        h.status = op.expiry ? "expired" : "voided";
        changedHolds.add(h.id);
        return "succeeded";
      }
    }
  };

  for (const op of operations) {
    const result = apply(op);
    outcomes.push(
      result === "succeeded"
        ? { operationId: op.id, status: "succeeded" }
        : { operationId: op.id, status: "failed", failureCode: result },
    );
  }

  return {
    outcomes,
    entries,
    changedWallets: [...changedWallets].map((id) => wallet(id)),
    changedHolds: [...changedHolds].map((id) => hold(id) as HoldState),
    changedRefundables: [...changedOriginals].map((id) => original(id)),
  };
}

/** Copies of locked rows, each made the first time it is asked for; rows new to the batch are added. */
class Copies<T extends { id: string }> {
  private readonly copies = new Map<string, T>();
  private readonly locked: ReadonlyMap<string, T>;
  constructor(locked: ReadonlyMap<string, T>) {
    this.locked = locked;
  }

  get(id: string): T | undefined {
    let copy = this.copies.get(id);
    if (!copy) {
      const row = this.locked.get(id);
      if (!row) return undefined;
      copy = { ...row };
      this.copies.set(id, copy);
    }
    return copy;
  }

  add(row: T): void {
    this.copies.set(row.id, row);
  }
}

const notLocked = (what: string, id: string): never => {
  throw new Error(`${what} ${id} was not locked for the batch`);
};

/**
 * A credit keeps a client wallet within 2^53-1, and any balance within Postgres's bigint (a
 * funding account has no business bound, but its column has one: past it the operation fails
 * alone instead of every batch of the partition).
 */
function canCredit(w: LockedWallet, amount: bigint): boolean {
  if (w.kind === "client" && w.balance + amount > MAX_AMOUNT) return false;
  return w.balance + amount <= BIGINT_MAX;
}
