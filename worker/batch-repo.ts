import type pg from "pg";
import { newId } from "../shared/ids.ts";
import type { EntryDraft, LockedWallet, Outcome } from "./apply-batch.ts";

/**
 * The SQL of one partition batch, on the raw pg client of the batch's transaction. Every
 * statement is set-based and named, so each pooled connection parses and plans it once: four
 * statements per batch (lock operations, lock wallets, write, and the funding look-up once per
 * process), whatever its size.
 */

/** What a transaction's client offers that these functions use. */
export type TxClient = Pick<pg.PoolClient, "query">;

export interface PendingRow {
  id: string;
  type: "top_up" | "transfer";
  amount: bigint;
  currency: string;
  fromWalletId: string | null;
  toWalletId: string;
}

/**
 * Locks the partition's oldest pending operations, in acceptance order. `FOR UPDATE`, not
 * `SKIP LOCKED`: a second runner (after a false stall) waits, then finds them done.
 */
export async function lockPending(tx: TxClient, partition: number, cap: number): Promise<PendingRow[]> {
  const r = await tx.query<{
    id: string;
    type: "top_up" | "transfer";
    amount: string;
    currency: string;
    from_wallet_id: string | null;
    to_wallet_id: string;
  }>({
    name: "batch.lock-pending",
    text: `SELECT id, type, amount::text AS amount, currency, from_wallet_id, to_wallet_id
           FROM operations
           WHERE partition = $1 AND status = 'pending'
           ORDER BY seq
           LIMIT $2
           FOR UPDATE`,
    values: [partition, cap],
  });
  return r.rows.map((row) => ({
    id: row.id,
    type: row.type,
    amount: BigInt(row.amount),
    currency: row.currency,
    fromWalletId: row.from_wallet_id,
    toWalletId: row.to_wallet_id,
  }));
}

/** Ids of the funding accounts of `partition`, by currency. They never change: callers cache them. */
export async function fundingAccounts(
  tx: TxClient,
  partition: number,
  currencies: string[],
): Promise<Map<string, string>> {
  const r = await tx.query<{ id: string; currency: string }>({
    name: "batch.funding-accounts",
    text: `SELECT id, currency FROM wallets
           WHERE kind = 'funding' AND partition = $1 AND currency = ANY($2::char(3)[])`,
    values: [partition, currencies],
  });
  return new Map(r.rows.map((row) => [row.currency, row.id]));
}

/**
 * Locks every wallet of the batch in one statement, in ascending id order, `FOR NO KEY UPDATE`:
 * one order for every runner removes deadlocks between them, and the mode does not conflict
 * with the `FOR KEY SHARE` locks of the api's foreign-key checks (plain `FOR UPDATE` would).
 */
export async function lockWallets(tx: TxClient, ids: string[]): Promise<Map<string, LockedWallet>> {
  const sorted = [...new Set(ids)].sort();
  const r = await tx.query<{ id: string; kind: "client" | "funding"; balance: string; version: string }>({
    name: "batch.lock-wallets",
    text: `SELECT id, kind, balance::text AS balance, version::text AS version
           FROM wallets WHERE id = ANY($1::uuid[])
           ORDER BY id
           FOR NO KEY UPDATE`,
    values: [sorted],
  });
  return new Map(
    r.rows.map((w) => [
      w.id,
      { id: w.id, kind: w.kind, balance: BigInt(w.balance), version: BigInt(w.version) },
    ]),
  );
}

export interface OutcomeRow {
  id: string;
  status: "succeeded" | "failed";
  failureCode: string | null;
  failureMessage: string | null;
}

const WRITE_BATCH = `
  WITH posted AS (
    INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[])
  ), balances AS (
    UPDATE wallets AS w SET balance = v.balance, version = v.version, updated_at = now()
    FROM unnest($7::uuid[], $8::bigint[], $9::bigint[]) AS v(id, balance, version)
    WHERE w.id = v.id
  ), outcomes AS (
    -- clock_timestamp(), not now(): the batch may have waited for its locks since BEGIN.
    UPDATE operations AS o
    SET status = v.status, failure_code = v.code, failure_message = v.message, completed_at = clock_timestamp()
    FROM unnest($10::uuid[], $11::text[], $12::text[], $13::text[]) AS v(id, status, code, message)
    WHERE o.id = v.id AND o.status = 'pending'
    RETURNING o.id
  )
  SELECT id FROM outcomes`;

/**
 * Writes a batch's entries, balances, versions and final statuses in one statement (three
 * data-modifying CTEs: one round trip inside the lock window); returns the ids it completed.
 */
export async function writeBatch(
  tx: TxClient,
  result: { entries: EntryDraft[]; changedWallets: LockedWallet[]; outcomes: Outcome[] },
  failureMessages: Record<string, string>,
): Promise<string[]> {
  const { entries, changedWallets, outcomes } = result;
  const rows: OutcomeRow[] = outcomes.map((o) => ({
    id: o.operationId,
    status: o.status,
    failureCode: o.status === "failed" ? o.failureCode : null,
    failureMessage: o.status === "failed" ? (failureMessages[o.failureCode] ?? null) : null,
  }));
  const r = await tx.query<{ id: string }>({
    name: "batch.write",
    text: WRITE_BATCH,
    values: [
      entries.map(() => newId()),
      entries.map((e) => e.operationId),
      entries.map((e) => e.walletId),
      entries.map((e) => e.amount.toString()),
      entries.map((e) => e.balanceAfter.toString()),
      entries.map((e) => e.walletVersion.toString()),
      changedWallets.map((w) => w.id),
      changedWallets.map((w) => w.balance.toString()),
      changedWallets.map((w) => w.version.toString()),
      ...outcomeArrays(rows),
    ],
  });
  return r.rows.map((row) => row.id);
}

const outcomeArrays = (rows: OutcomeRow[]) => [
  rows.map((o) => o.id),
  rows.map((o) => o.status),
  rows.map((o) => o.failureCode),
  rows.map((o) => o.failureMessage),
];

/** Sets final statuses of still-pending operations (no entries); returns the ids it changed. */
export async function setOutcomes(tx: TxClient, rows: OutcomeRow[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const r = await tx.query<{ id: string }>({
    name: "batch.set-outcomes",
    text: `UPDATE operations AS o
           SET status = v.status, failure_code = v.code, failure_message = v.message, completed_at = clock_timestamp()
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS v(id, status, code, message)
           WHERE o.id = v.id AND o.status = 'pending'
           RETURNING o.id`,
    values: outcomeArrays(rows),
  });
  return r.rows.map((row) => row.id);
}
