import { operationType } from "../shared/operation-types/catalog.ts";
import type { BatchOperation } from "./apply-batch.ts";
import type { PendingOperation } from "./batch-repo.ts";

/** What a batch applies, and what it must lock first. */
export interface BatchPlan {
  operations: BatchOperation[];
  /**
   * What each operation (same index) touches ({@link applicableNow}): its two wallets, and the
   * hold it places or resolves or the original it refunds (`""` for none).
   */
  touches: { wallets: [string, string]; resolves: string }[];
  /** Every wallet the batch may touch: sources, destinations, funding accounts. */
  walletIds: string[];
  /** The holds its captures and voids resolve. */
  holdIds: string[];
  /** The originals its refunds send money back along. */
  originalIds: string[];
}

/**
 * The pending operations of a batch as the runner applies them. A top-up debits, a payout
 * credits, the funding account `funding(currency)` of the partition (the catalog's
 * `ledger.funding`). A capture's and a void's wallets are their hold's (copied onto them at
 * acceptance), so the wallets of the whole batch are known before anything is locked. A refund
 * moves money like a transfer (its wallets are its original's, swapped) and names its original,
 * whose refunded sum the batch keeps.
 */
export function planBatch(
  pending: readonly PendingOperation[],
  funding: (currency: string) => string | undefined,
): BatchPlan {
  const fundingOf = (currency: string): string => {
    const id = funding(currency);
    if (!id) throw new Error(`no funding account for ${currency} in this partition`);
    return id;
  };
  const required = (id: string | null, what: string, op: PendingOperation): string => {
    if (!id) throw new Error(`${op.type} ${op.id} has no ${what}`);
    return id;
  };
  const walletIds: string[] = [];
  const holdIds: string[] = [];
  const originalIds: string[] = [];
  const touches: BatchPlan["touches"] = [];
  const operations = pending.map((op) => {
    const { funding: side } = operationType(op.type).ledger;
    const from = side === "debit" ? fundingOf(op.currency) : required(op.fromWalletId, "source", op);
    const to = side === "credit" ? fundingOf(op.currency) : required(op.toWalletId, "destination", op);
    walletIds.push(from, to);
    const holdId = op.type === "capture" || op.type === "void" ? required(op.holdId, "hold", op) : "";
    if (holdId) holdIds.push(holdId);
    const originalId = op.type === "refund" ? required(op.refundOf, "original", op) : "";
    if (originalId) originalIds.push(originalId);
    touches.push({ wallets: [from, to], resolves: op.type === "hold" ? op.id : holdId || originalId });
    return toBatchOperation(op, { from, to, holdId, originalId });
  });
  return { operations, touches, walletIds, holdIds, originalIds };
}

/** The operations of a batch that can be applied now, and how many wait for a later batch. */
export interface Applicable {
  operations: BatchOperation[];
  deferred: number;
}

/**
 * The part of a batch that can be applied with the wallets it locked, when it took only those no
 * other batch held (`lockWallets`, its `SKIP LOCKED` part). In acceptance order, an operation waits
 * (stays pending, for a later batch) if one of its wallets is not in `locked`, or if it shares a
 * wallet, a hold or an original with an earlier operation that waits. So each wallet, hold and
 * original still sees its operations in acceptance order; only operations with nothing in common
 * change places. Pure.
 */
export function applicableNow(plan: BatchPlan, locked: ReadonlyMap<string, unknown>): Applicable {
  const blocked = new Set<string>();
  const operations = plan.operations.filter((_, i) => {
    const { wallets, resolves } = plan.touches[i] as BatchPlan["touches"][number];
    if (wallets.every((w) => locked.has(w) && !blocked.has(w)) && !blocked.has(resolves)) return true;
    for (const w of wallets) blocked.add(w);
    if (resolves) blocked.add(resolves);
    return false;
  });
  return { operations, deferred: plan.operations.length - operations.length };
}

function toBatchOperation(
  op: PendingOperation,
  { from, to, holdId, originalId }: { from: string; to: string; holdId: string; originalId: string },
): BatchOperation {
  switch (op.type) {
    case "top_up":
    case "transfer":
    case "payout":
      return { kind: "move", id: op.id, amount: op.amount, debitWalletId: from, creditWalletId: to };
    case "hold":
      if (!op.expiresAt) throw new Error(`hold ${op.id} has no expiry`);
      return {
        kind: "hold",
        id: op.id,
        amount: op.amount,
        walletId: from,
        toWalletId: to,
        expiresAt: op.expiresAt,
      };
    case "capture":
      return { kind: "capture", id: op.id, amount: op.amount, holdId, acceptedAt: op.createdAt };
    case "void":
      return { kind: "release", id: op.id, holdId, acceptedAt: op.createdAt, expiry: op.expiry };
    case "refund":
      return {
        kind: "refund",
        id: op.id,
        amount: op.amount,
        debitWalletId: from,
        creditWalletId: to,
        originalId,
      };
  }
}
