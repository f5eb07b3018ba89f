import type { Queryable } from "../../shared/db/client.ts";
import { CoalescingLoader } from "./coalescing-loader.ts";

/** What a capture or void needs of its hold operation at acceptance. None of it ever changes. */
export interface HoldFacts {
  id: string;
  clientId: string;
  amount: bigint;
  currency: string;
  fromWalletId: string;
  toWalletId: string;
  partition: number;
}

/**
 * Hold operations by id, for the acceptance of captures and voids: an operation of another type
 * is not a hold (404 `hold_not_found`, like a missing one). Look-ups of one event-loop turn are
 * read with one statement. Not cached: a hold is captured or voided about once.
 */
export function holdFactsLoader(db: Queryable): (id: string) => Promise<HoldFacts | undefined> {
  const loader = new CoalescingLoader<string, HoldFacts>({
    scope: (id) => id,
    loadMany: async (ids) => {
      const r = await db.query<{
        id: string;
        client_id: string;
        amount: string;
        currency: string;
        from_wallet_id: string;
        to_wallet_id: string;
        partition: number;
      }>({
        name: "operations.hold-facts",
        text: `SELECT id, client_id, amount::text AS amount, currency, from_wallet_id, to_wallet_id, partition
               FROM operations WHERE id = ANY($1::uuid[]) AND type = 'hold'`,
        values: [ids],
      });
      return new Map(
        r.rows.map((h) => [
          h.id,
          {
            id: h.id,
            clientId: h.client_id,
            amount: BigInt(h.amount),
            currency: h.currency,
            fromWalletId: h.from_wallet_id,
            toWalletId: h.to_wallet_id,
            partition: h.partition,
          },
        ]),
      );
    },
  });
  return (id) => loader.load(id);
}
