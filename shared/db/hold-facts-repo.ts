import type { Queryable } from "./client.ts";

/**
 * What a capture or void of a hold needs of it, at acceptance (the api) or when the sweeper
 * voids it on expiry (a worker). None of it ever changes.
 */
export interface HoldFacts {
  /** The hold operation's id. */
  id: string;
  clientId: string;
  amount: bigint;
  currency: string;
  fromWalletId: string;
  toWalletId: string;
  /** The source wallet's partition: the hold's steps are applied in its order. */
  partition: number;
}

const FACTS = `o.id, o.client_id, o.amount::text AS amount, o.currency, o.from_wallet_id, o.to_wallet_id, o.partition`;

interface FactsRow {
  id: string;
  client_id: string;
  amount: string;
  currency: string;
  from_wallet_id: string;
  to_wallet_id: string;
  partition: number;
}

const toFacts = (h: FactsRow): HoldFacts => ({
  id: h.id,
  clientId: h.client_id,
  amount: BigInt(h.amount),
  currency: h.currency,
  fromWalletId: h.from_wallet_id,
  toWalletId: h.to_wallet_id,
  partition: h.partition,
});

/** The hold operations among `ids` (an operation of another type is not a hold), by id. */
export async function holdFactsByIds(db: Queryable, ids: string[]): Promise<Map<string, HoldFacts>> {
  const r = await db.query<FactsRow>({
    name: "holds.facts-by-ids",
    text: `SELECT ${FACTS} FROM operations o WHERE o.id = ANY($1::uuid[]) AND o.type = 'hold'`,
    values: [ids],
  });
  return new Map(r.rows.map((row) => [row.id, toFacts(row)]));
}

/** Up to `limit` active holds whose expiry has passed, oldest expiry first (the partial index of active holds). */
export async function expiredHolds(db: Queryable, limit: number): Promise<HoldFacts[]> {
  const r = await db.query<FactsRow>({
    name: "holds.expired",
    text: `SELECT ${FACTS} FROM holds h JOIN operations o ON o.id = h.operation_id
           WHERE h.status = 'active' AND h.expires_at <= now()
           ORDER BY h.expires_at
           LIMIT $1`,
    values: [limit],
  });
  return r.rows.map(toFacts);
}
