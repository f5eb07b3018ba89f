import { MAX_AMOUNT } from "../shared/money.ts";

/** Postgres's bigint: the range every balance, a funding account's included, must stay in. */
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** A pending operation as the runner applies it; `debitWalletId` is the transfer source or the top-up's funding account. */
export interface BatchOperation {
  id: string;
  amount: bigint;
  debitWalletId: string;
  creditWalletId: string;
}

/** A wallet row locked for the batch. Funding accounts have no bounds; client wallets stay in 0..2^53-1. */
export interface LockedWallet {
  id: string;
  kind: "client" | "funding";
  balance: bigint;
  version: bigint;
}

export type Outcome =
  | { operationId: string; status: "succeeded" }
  | { operationId: string; status: "failed"; failureCode: "insufficient_funds" | "balance_limit_exceeded" };

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
  /** Final balance and version of every wallet that got an entry. */
  changedWallets: LockedWallet[];
}

/**
 * Applies operations one after another, in the given (acceptance) order, against running
 * balances. Pure: no I/O. A failure in the middle of a batch sees exactly the balances the
 * operations before it left, so outcomes equal those of applying them one at a time.
 */
export function applyBatch(
  operations: readonly BatchOperation[],
  locked: ReadonlyMap<string, LockedWallet>,
): BatchResult {
  const state = new Map<string, LockedWallet>();
  const walletState = (id: string): LockedWallet => {
    let w = state.get(id);
    if (!w) {
      const row = locked.get(id);
      if (!row) throw new Error(`wallet ${id} was not locked for the batch`);
      w = { ...row };
      state.set(id, w);
    }
    return w;
  };

  const outcomes: Outcome[] = [];
  const entries: EntryDraft[] = [];
  const changed = new Set<string>();

  for (const op of operations) {
    const debit = walletState(op.debitWalletId);
    const credit = walletState(op.creditWalletId);
    if (debit.kind === "client" && debit.balance < op.amount) {
      outcomes.push({ operationId: op.id, status: "failed", failureCode: "insufficient_funds" });
      continue;
    }
    // A funding account has no business bound, but its column has one: a debit past -2^63 (or a
    // credit past 2^63-1) fails this operation alone instead of every batch of the partition.
    if (
      (credit.kind === "client" && credit.balance + op.amount > MAX_AMOUNT) ||
      credit.balance + op.amount > BIGINT_MAX ||
      debit.balance - op.amount < BIGINT_MIN
    ) {
      outcomes.push({ operationId: op.id, status: "failed", failureCode: "balance_limit_exceeded" });
      continue;
    }
    for (const [wallet, amount] of [
      [debit, -op.amount],
      [credit, op.amount],
    ] as const) {
      wallet.balance += amount;
      wallet.version += 1n;
      changed.add(wallet.id);
      entries.push({
        operationId: op.id,
        walletId: wallet.id,
        amount,
        balanceAfter: wallet.balance,
        walletVersion: wallet.version,
      });
    }
    outcomes.push({ operationId: op.id, status: "succeeded" });
  }

  return { outcomes, entries, changedWallets: [...changed].map((id) => walletState(id)) };
}
