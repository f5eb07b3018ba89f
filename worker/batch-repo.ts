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

/** Writes a batch's entries, balances, versions and final statuses with three statements. */
export async function writeBatch(
  tx: Tx,
  result: { entries: EntryDraft[]; changedWallets: LockedWallet[]; outcomes: Outcome[] },
  failureMessages: Record<string, string>,
): Promise<void> {
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
  await setOutcomes(
    tx,
    outcomes.map((o) => ({
      id: o.operationId,
      status: o.status,
      failureCode: o.status === "failed" ? o.failureCode : null,
      failureMessage: o.status === "failed" ? (failureMessages[o.failureCode] ?? null) : null,
    })),
  );
}

/** Sets final statuses of still-pending operations; returns the ids it changed. */
export async function setOutcomes(
  tx: Tx,
  rows: {
    id: string;
    status: "succeeded" | "failed";
    failureCode: string | null;
    failureMessage: string | null;
  }[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const r = await tx.execute<{ id: string }>(sql`
    UPDATE operations AS o
    SET status = v.status, failure_code = v.code, failure_message = v.message, completed_at = now()
    FROM unnest(
      ${sql.param(rows.map((o) => o.id))}::uuid[],
      ${sql.param(rows.map((o) => o.status))}::text[],
      ${sql.param(rows.map((o) => o.failureCode))}::text[],
      ${sql.param(rows.map((o) => o.failureMessage))}::text[]) AS v(id, status, code, message)
    WHERE o.id = v.id AND o.status = 'pending'
    RETURNING o.id`);
  return r.rows.map((row) => row.id);
}
