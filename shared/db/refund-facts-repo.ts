import { operationType } from "../operation-types/catalog.ts";
import type { Queryable } from "./client.ts";
import type { Operation } from "./schema/index.ts";

/**
 * What the acceptance of a refund needs of the operation it names (docs/api.md, "Refunds"): who
 * submitted it, who received it, whether it may be refunded and along which wallets. Read fresh
 * for every refund (an original still `pending` is refused, and may succeed a moment later).
 */
export interface OriginalFacts {
  id: string;
  /** The client that submitted it. */
  clientId: string;
  /** Whether its type may be refunded (the catalog's `ledger.refundable`: a transfer, a capture). */
  refundable: boolean;
  status: Operation["status"];
  amount: bigint;
  currency: string;
  fromWalletId: string | null;
  toWalletId: string | null;
  /** The client owning its destination wallet (the receiver; null when it has none or a funding account). */
  receiverId: string | null;
  /** Its destination wallet's partition: a refund debits that wallet, so it is applied in its order. */
  receiverPartition: number | null;
}

/** The operations among `ids`, with their destination wallet's owner and partition, by id. */
export async function originalFactsByIds(db: Queryable, ids: string[]): Promise<Map<string, OriginalFacts>> {
  const r = await db.query<{
    id: string;
    client_id: string;
    type: Operation["type"];
    status: Operation["status"];
    amount: string;
    currency: string;
    from_wallet_id: string | null;
    to_wallet_id: string | null;
    receiver_id: string | null;
    receiver_partition: number | null;
  }>({
    name: "refunds.original-facts-by-ids",
    text: `SELECT o.id, o.client_id, o.type, o.status, o.amount::text AS amount, o.currency, o.from_wallet_id,
                  o.to_wallet_id, w.client_id AS receiver_id, w.partition AS receiver_partition
           FROM operations o LEFT JOIN wallets w ON w.id = o.to_wallet_id
           WHERE o.id = ANY($1::uuid[])`,
    values: [ids],
  });
  return new Map(
    r.rows.map((o) => [
      o.id,
      {
        id: o.id,
        clientId: o.client_id,
        refundable: operationType(o.type).ledger.refundable,
        status: o.status,
        amount: BigInt(o.amount),
        currency: o.currency,
        fromWalletId: o.from_wallet_id,
        toWalletId: o.to_wallet_id,
        receiverId: o.receiver_id,
        receiverPartition: o.receiver_partition,
      },
    ]),
  );
}
