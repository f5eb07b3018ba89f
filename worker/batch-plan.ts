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
  /** The wallets the batch waits for: those of the first partition's oldest operation, and of the oldest of each partition in `waits`. */
  headWallets: string[];
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
 *
 * A batch may hold several partitions' operations (`pending`: partition by partition, each in
 * acceptance order). Each partition's oldest operation (its head) comes first, in that order,
 * then the others, partition by partition, so no operation before a head can make it wait
 * ({@link applicableNow}). The batch waits for the wallets of the first partition's head and of
 * the heads of the partitions in `waits` (`headWallets`), so those heads are applied; another
 * head whose wallet a concurrent batch holds waits for a later batch of its partition, which then
 * asks to wait for it. Waiting for every head made the batches of `bulk` wait on each other twice
 * as long (docs/performance.md). Operations of different partitions share no debited
 * wallet (the partition is the debited wallet's), so their order among each other is free.
 */
export function planBatch(
  pending: readonly PendingOperation[],
  funding: (partition: number, currency: string) => string | undefined,
  waits: ReadonlySet<number> = new Set(),
): BatchPlan {
  const fundingOf = (op: PendingOperation): string => {
    const id = funding(op.partition, op.currency);
    if (!id) throw new Error(`no funding account for ${op.currency} in partition ${op.partition}`);
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
  const ordered = headsFirst(pending);
  const operations = ordered.operations.map((op) => {
    const { funding: side } = operationType(op.type).ledger;
    const from = side === "debit" ? fundingOf(op) : required(op.fromWalletId, "source", op);
    const to = side === "credit" ? fundingOf(op) : required(op.toWalletId, "destination", op);
    walletIds.push(from, to);
    const holdId = op.type === "capture" || op.type === "void" ? required(op.holdId, "hold", op) : "";
    if (holdId) holdIds.push(holdId);
    const originalId = op.type === "refund" ? required(op.refundOf, "original", op) : "";
    if (originalId) originalIds.push(originalId);
    touches.push({ wallets: [from, to], resolves: op.type === "hold" ? op.id : holdId || originalId });
    return toBatchOperation(op, { from, to, holdId, originalId });
  });
  const headWallets = touches
    .slice(0, ordered.heads)
    .filter((_, i) => i === 0 || waits.has((ordered.operations[i] as PendingOperation).partition))
    .flatMap((t) => t.wallets);
  return { operations, touches, headWallets, walletIds, holdIds, originalIds };
}

/** `pending` (partition by partition) with each partition's first operation moved to the front; `heads` of them. */
function headsFirst(pending: readonly PendingOperation[]): {
  operations: PendingOperation[];
  heads: number;
} {
  const heads: PendingOperation[] = [];
  const rest: PendingOperation[] = [];
  pending.forEach((op, i) => {
    (i === 0 || pending[i - 1]?.partition !== op.partition ? heads : rest).push(op);
  });
  return { operations: [...heads, ...rest], heads: heads.length };
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
