import type { Queryable } from "./client.ts";

/**
 * The idempotency key of the system's void of an expired hold, under the hold's client: one per
 * hold and attempt, however many sweepers insert it (the unique key decides). It holds a
 * character outside printable ASCII, which no client's Idempotency-Key can (1..255 printable
 * ASCII), so a client's request can neither take it nor be taken for it. The first attempt's key
 * is the prefix and the hold's id; a later one (after a void that failed, say `internal_error`,
 * leaving the hold active) adds ` · <attempt>`.
 */
export const EXPIRY_KEY_PREFIX = "hold expired · ";
export const expiryKey = (holdId: string, attempt = 1): string =>
  attempt === 1 ? `${EXPIRY_KEY_PREFIX}${holdId}` : `${EXPIRY_KEY_PREFIX}${holdId} · ${attempt}`;
/** Expiry voids tried per hold at most. */
export const MAX_EXPIRY_ATTEMPTS = 5;

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

/** An expired active hold that needs an expiry void, and the attempt the next one is. */
export type ExpiredHold = HoldFacts & { expiresAt: Date; attempt: number };

/**
 * Up to `limit` active holds whose expiry has passed, by expiry then id, after `after` (a page's
 * last hold; the partial index of active holds by expiry), that need an expiry void: none was
 * accepted yet, or every one accepted failed (the next `attempt` is one more than their count).
 * A hold with a pending step that decides it is skipped: the client's capture or void accepted
 * before the expiry (it wins, where a void behind it could only fail), or its own expiry void,
 * waiting behind its partition's backlog (so it cannot hold back the expiry of others). A step
 * accepted at or after the expiry decides nothing (it fails `hold_not_active`) and does not delay
 * the void. One whose voids failed {@link MAX_EXPIRY_ATTEMPTS} times is skipped too. Each hold's
 * steps, its expiry voids among them, are one probe of the partial index of `operations` by
 * `hold_id` (an aggregate per hold: the planner cannot join it to every capture and void, nor to
 * every operation of the client as a probe of each attempt's key once was).
 */
export async function expiredHolds(
  db: Queryable,
  limit: number,
  after?: { expiresAt: Date; id: string },
): Promise<ExpiredHold[]> {
  const expiry = `starts_with(s.idempotency_key, '${EXPIRY_KEY_PREFIX}' || h.operation_id)`;
  const r = await db.query<FactsRow & { expires_at: Date; attempt: number }>({
    name: "holds.expired",
    text: `SELECT ${FACTS}, h.expires_at, steps.expiry_voids + 1 AS attempt
           FROM holds h
           JOIN operations o ON o.id = h.operation_id
           CROSS JOIN LATERAL (
             SELECT count(*) FILTER (WHERE ${expiry})::int AS expiry_voids,
                    coalesce(bool_or(s.status = 'pending' AND (s.created_at < h.expires_at OR ${expiry})), false) AS queued
             FROM operations s WHERE s.hold_id = h.operation_id
           ) steps
           WHERE h.status = 'active' AND h.expires_at <= now()
             AND ($2::timestamptz IS NULL OR (h.expires_at, h.operation_id) > ($2, $3::uuid))
             AND steps.expiry_voids < ${MAX_EXPIRY_ATTEMPTS} AND NOT steps.queued
           ORDER BY h.expires_at, h.operation_id
           LIMIT $1`,
    values: [limit, after?.expiresAt ?? null, after?.id ?? null],
  });
  return r.rows.map((row) => ({ ...toFacts(row), expiresAt: row.expires_at, attempt: row.attempt }));
}
