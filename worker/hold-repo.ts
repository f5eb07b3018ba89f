import type { Queryable } from "../shared/db/client.ts";
import type { HoldStatus } from "../shared/db/schema/index.ts";
import type { HoldState } from "./apply-batch.ts";
import { micros } from "./micros.ts";

/**
 * The holds' SQL of the runner: the batch's lock of the holds its captures and voids resolve
 * (the sweeper's scan for expired ones is shared/db/hold-facts-repo.ts's). A hold's row is written only by its partition's
 * runner (batch-repo.ts's batch write), under the batch's locks.
 */

/** The holds of `ids` that exist (a hold whose operation failed has none), locked for the batch. */
export async function lockHolds(tx: Queryable, ids: string[]): Promise<Map<string, HoldState>> {
  if (ids.length === 0) return new Map();
  const r = await tx.query<{
    operation_id: string;
    from_wallet_id: string;
    to_wallet_id: string;
    amount: string;
    status: HoldStatus;
    expires_at: string;
    captured_amount: string | null;
  }>({
    name: "batch.lock-holds",
    text: `SELECT operation_id, from_wallet_id, to_wallet_id, amount::text AS amount, status,
                  ${micros("expires_at")} AS expires_at,
                  captured_amount::text AS captured_amount
           FROM holds WHERE operation_id = ANY($1::uuid[])
           ORDER BY operation_id
           FOR NO KEY UPDATE`,
    values: [[...new Set(ids)].sort()],
  });
  return new Map(
    r.rows.map((h) => [
      h.operation_id,
      {
        id: h.operation_id,
        fromWalletId: h.from_wallet_id,
        toWalletId: h.to_wallet_id,
        amount: BigInt(h.amount),
        status: h.status,
        expiresAt: BigInt(h.expires_at),
        capturedAmount: h.captured_amount === null ? null : BigInt(h.captured_amount),
      },
    ]),
  );
}
