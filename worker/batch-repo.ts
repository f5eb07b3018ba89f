import { sql } from "drizzle-orm";
import type { Tx } from "../shared/db/client.ts";
import { newId } from "../shared/ids.ts";
import type { EntryDraft, LockedWallet, Outcome } from "./apply-batch.ts";

/** The SQL of one partition batch. Every statement is set-based: a handful per batch, whatever its size. */

export interface PendingRow {
  id: string;
  type: "top_up" | "transfer";
  amount: bigint;
  currency: string;
  fromWalletId: string | null;
  toWalletId: string;
  /** Time since acceptance (`created_at`) when the row was locked, by the Postgres clock, ms. */
  ageMs: number;
}

/**
 * Locks the partition's oldest pending operations, in acceptance order. `FOR UPDATE`, not
 * `SKIP LOCKED`: a second runner (after a false stall) waits, then finds them done.
 */
export async function lockPending(tx: Tx, partition: number, cap: number): Promise<PendingRow[]> {
  const r = await tx.execute<{
    id: string;
    type: "top_up" | "transfer";
    amount: string;
    currency: string;
    from_wallet_id: string | null;
    to_wallet_id: string;
    age_ms: number;
  }>(sql`
    SELECT id, type, amount::text AS amount, currency, from_wallet_id, to_wallet_id,
           (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8 AS age_ms
    FROM operations
    WHERE partition = ${partition} AND status = 'pending'
    ORDER BY seq
    LIMIT ${cap}
    FOR UPDATE`);
  return r.rows.map((row) => ({
    id: row.id,
    type: row.type,
    amount: BigInt(row.amount),
    currency: row.currency,
    fromWalletId: row.from_wallet_id,
    toWalletId: row.to_wallet_id,
    ageMs: row.age_ms,
  }));
}

/** Ids of the funding accounts of `partition`, by currency. */
export async function fundingAccounts(
  tx: Tx,
  partition: number,
  currencies: string[],
): Promise<Map<string, string>> {
  const r = await tx.execute<{ id: string; currency: string }>(sql`
    SELECT id, currency FROM wallets
    WHERE kind = 'funding' AND partition = ${partition} AND currency = ANY(${sql.param(currencies)}::char(3)[])`);
  return new Map(r.rows.map((row) => [row.currency, row.id]));
}

/**
 * Locks every wallet of the batch in one statement, in ascending id order, `FOR NO KEY UPDATE`:
 * one order for every runner removes deadlocks between them, and the mode does not conflict
 * with the `FOR KEY SHARE` locks of the api's foreign-key checks (plain `FOR UPDATE` would).
 */
export async function lockWallets(tx: Tx, ids: string[]): Promise<Map<string, LockedWallet>> {
  const sorted = [...new Set(ids)].sort();
  const r = await tx.execute<{
    id: string;
    kind: "client" | "funding";
    balance: string;
    version: string;
  }>(sql`
    SELECT id, kind, balance::text AS balance, version::text AS version
    FROM wallets WHERE id = ANY(${sql.param(sorted)}::uuid[])
    ORDER BY id
    FOR NO KEY UPDATE`);
  return new Map(
    r.rows.map((w) => [
      w.id,
      { id: w.id, kind: w.kind, balance: BigInt(w.balance), version: BigInt(w.version) },
    ]),
  );
}

/** What a batch's final write changed: the operations it completed and the webhook deliveries it wrote. */
export interface Completed {
  ids: string[];
  /** Delivery rows written for those operations (one per subscribed live endpoint of the submitter). */
  deliveries: number;
}

/** Writes a batch's entries, balances, versions, final statuses and webhook deliveries with three statements. */
export async function writeBatch(
  tx: Tx,
  result: { entries: EntryDraft[]; changedWallets: LockedWallet[]; outcomes: Outcome[] },
  failureMessages: Record<string, string>,
): Promise<Completed> {
  const { entries, changedWallets, outcomes } = result;
  if (entries.length > 0) {
    await tx.execute(sql`
      INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
      SELECT * FROM unnest(
        ${sql.param(entries.map(() => newId()))}::uuid[],
        ${sql.param(entries.map((e) => e.operationId))}::uuid[],
        ${sql.param(entries.map((e) => e.walletId))}::uuid[],
        ${sql.param(entries.map((e) => e.amount.toString()))}::bigint[],
        ${sql.param(entries.map((e) => e.balanceAfter.toString()))}::bigint[],
        ${sql.param(entries.map((e) => e.walletVersion.toString()))}::bigint[])`);
    await tx.execute(sql`
      UPDATE wallets AS w SET balance = v.balance, version = v.version, updated_at = now()
      FROM unnest(
        ${sql.param(changedWallets.map((w) => w.id))}::uuid[],
        ${sql.param(changedWallets.map((w) => w.balance.toString()))}::bigint[],
        ${sql.param(changedWallets.map((w) => w.version.toString()))}::bigint[]) AS v(id, balance, version)
      WHERE w.id = v.id`);
  }
  return setOutcomes(
    tx,
    outcomes.map((o) => ({
      id: o.operationId,
      status: o.status,
      failureCode: o.status === "failed" ? o.failureCode : null,
      failureMessage: o.status === "failed" ? (failureMessages[o.failureCode] ?? null) : null,
    })),
  );
}

/**
 * A UUIDv7 made in SQL (Postgres 15 has no uuidv7()): a random v4 whose first 48 bits are
 * replaced by the Unix time in ms and whose version nibble becomes 7 (bits 52 and 53 set).
 * Delivery ids sort by creation time like every other id, which the list pages rely on.
 */
const UUID_V7_SQL = sql.raw(
  "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing " +
    "substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) " +
    "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid",
);

/**
 * Sets final statuses of still-pending operations and, in the same statement, writes one
 * webhook delivery per live endpoint of the submitting client subscribed to the outcome
 * (ARCHITECTURE.md step 5). Deliveries are written here, in the money transaction, rather than
 * flagging operations "to notify" for a later pass: the rows exist exactly when the outcome
 * commits (a crash or a Redis flush cannot separate them), no second scan of operations is
 * needed, and each sender claims ready-made rows. The join reads the partial index of live
 * endpoints by client: a client without endpoints costs one index probe per operation and no
 * row. Nothing else about webhooks happens in this transaction (no HTTP, no endpoint lock).
 * Only operations this statement completed get deliveries (`RETURNING`), so a second runner
 * after a false stall writes none twice.
 */
export async function setOutcomes(
  tx: Tx,
  rows: {
    id: string;
    status: "succeeded" | "failed";
    failureCode: string | null;
    failureMessage: string | null;
  }[],
): Promise<Completed> {
  if (rows.length === 0) return { ids: [], deliveries: 0 };
  const r = await tx.execute<{ id: string; deliveries: number }>(sql`
    WITH done AS (
      UPDATE operations AS o
      SET status = v.status, failure_code = v.code, failure_message = v.message, completed_at = now()
      FROM unnest(
        ${sql.param(rows.map((o) => o.id))}::uuid[],
        ${sql.param(rows.map((o) => o.status))}::text[],
        ${sql.param(rows.map((o) => o.failureCode))}::text[],
        ${sql.param(rows.map((o) => o.failureMessage))}::text[]) AS v(id, status, code, message)
      WHERE o.id = v.id AND o.status = 'pending'
      RETURNING o.id, o.client_id, o.status
    ), notified AS (
      INSERT INTO webhook_deliveries (id, endpoint_id, operation_id, event_type, next_attempt_at)
      SELECT ${UUID_V7_SQL}, e.id, done.id, 'operation.' || done.status, now()
      FROM done
      JOIN webhook_endpoints AS e
        ON e.client_id = done.client_id AND e.deleted_at IS NULL
       AND ('operation.' || done.status) = ANY (e.events)
      RETURNING 1
    )
    SELECT done.id, (SELECT count(*)::int FROM notified) AS deliveries FROM done`);
  return { ids: r.rows.map((row) => row.id), deliveries: r.rows[0]?.deliveries ?? 0 };
}
