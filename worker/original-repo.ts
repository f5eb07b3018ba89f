import type { Queryable } from "../shared/db/client.ts";
import type { Refundable } from "./apply-batch.ts";

/**
 * Locks the originals of a batch's refunds, in id order, and reads what is left to refund of
 * each. Every refund of an original debits the original's destination wallet, so all of them
 * are applied by that wallet's partition, one batch after another; the lock keeps a second runner
 * (after a false stall) from reading a sum another batch is about to change. An original is
 * final (`succeeded`) before any refund of it is accepted, so no status update competes for it.
 */
export async function lockOriginals(tx: Queryable, ids: string[]): Promise<Map<string, Refundable>> {
  if (ids.length === 0) return new Map();
  const r = await tx.query<{ id: string; amount: string; refunded: string }>({
    name: "batch.lock-originals",
    text: `SELECT id, amount::text AS amount, refunded_amount::text AS refunded
           FROM operations WHERE id = ANY($1::uuid[])
           ORDER BY id
           FOR NO KEY UPDATE`,
    values: [[...new Set(ids)].sort()],
  });
  return new Map(
    r.rows.map((o) => [o.id, { id: o.id, amount: BigInt(o.amount), refunded: BigInt(o.refunded) }]),
  );
}
