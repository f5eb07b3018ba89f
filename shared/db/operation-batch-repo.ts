import { getTableColumns } from "drizzle-orm";
import { bpcharArray, int4Array, int8Array, jsonbArray, textArray, uuidArray } from "./binary-array.ts";
import type { Queryable } from "./client.ts";
import { type NewOperation, type Operation, operations } from "./schema/index.ts";

/**
 * The accept path's statements, on the raw pg pool with named (prepared) statements: one
 * multi-row insert per group of concurrent accepts instead of one Drizzle-built insert per
 * request (docs/design.md, step 1). Each pooled connection parses and plans
 * a named statement once, then only binds arrays.
 */

/**
 * An operation as the accept path inserts it (`pending`; the database adds `seq`, `created_at`
 * and a hold's `expires_at`, its `created_at` plus `expiresInSeconds`, null for other types).
 * A row whose `partition` and `currency` are null is placed by its wallets: the insert checks
 * them and takes both from the placing wallet ({@link WALLET_REFUSAL}).
 */
export type NewPendingOperation = {
  expiresInSeconds: number | null;
  /** A refund's original; absent or null for every other type. */
  refundOf?: string | null;
  partition: number | null;
  currency: string | null;
} & Required<
  Pick<
    NewOperation,
    | "id"
    | "clientId"
    | "type"
    | "amount"
    | "fromWalletId"
    | "toWalletId"
    | "holdId"
    | "metadata"
    | "idempotencyKey"
    | "requestHash"
  >
>;

/**
 * Why the insert refused a row placed by its wallets, in docs/api.md's order: the placing wallet
 * (the source; a top-up's wallet) is not one of the caller's, the destination of a two-wallet
 * operation is not a client's wallet, or their currencies differ.
 */
export type WalletRefusal = "source" | "destination" | "currency";

/**
 * Every column of `operations`, as the raw statements select it, and a selected row as the
 * Drizzle-inferred `Operation`: both derived from the table's definition, so a new column needs
 * no edit here. Each value goes through its column's own driver mapping (a bigint's text to
 * BigInt, say): the one row mapping of operations, beside Drizzle's own.
 */
const COLUMN_ENTRIES = Object.entries(getTableColumns(operations));
const COLUMNS = COLUMN_ENTRIES.map(([key, c]) => `"${c.name}" AS "${key}"`).join(", ");

function toOperation(row: Record<string, unknown>): Operation {
  return Object.fromEntries(
    COLUMN_ENTRIES.map(([key, c]) => {
      const value = row[key];
      return [key, value === null ? null : c.mapFromDriverValue(value)];
    }),
  ) as Operation;
}

/**
 * The refusal of a row placed by its wallets (f: its source, t: its destination, a: the row), as
 * SQL, null when the wallets may be used: the placing wallet (the source, or a top-up's wallet)
 * must be the caller's (a client wallet: `wallets_owner_matches_kind`), a two-wallet operation's
 * destination any client's, and their currencies equal (docs/api.md's order). One text for the
 * accept insert and for {@link walletRefusals}, which answers the same question without inserting.
 */
const WALLET_REFUSAL = `
  CASE WHEN (CASE WHEN a.from_wallet_id IS NULL THEN t.client_id ELSE f.client_id END)
              IS DISTINCT FROM a.client_id THEN 'source'
       WHEN a.from_wallet_id IS NOT NULL AND a.to_wallet_id IS NOT NULL AND t.client_id IS NULL
         THEN 'destination'
       WHEN f.currency <> t.currency THEN 'currency' END`;

/**
 * Sequence numbers are drawn in the array's (arrival) order, then the rows are inserted in one
 * order shared by every statement: by client, then key, in byte order. Two groups in flight at
 * once that hold keys of one client (two api processes, or two groups of one) then wait on each
 * other's uncommitted keys only in that order, never in a cycle: no deadlock by construction,
 * like the runners' ordered wallet locks. The insert order is not the acceptance order; `seq` is.
 *
 * A row with no partition is placed by its wallets, read by the joins that take its references:
 * refused with a {@link WalletRefusal} (and not inserted), or given the placing wallet's
 * partition and currency. Rows may share a key: the first of them (in arrival order) that is not
 * refused is the one inserted, as if the others had arrived after it.
 *
 * Every reference is taken from the referenced row (`operations` has no foreign keys: see its
 * schema): the client, the wallets, a capture's or void's hold and a refund's original are
 * joined; when a placed row's reference is missing the statement inserts nothing and returns
 * that row with `dangling`, for the caller to raise. Those rows are never deleted nor re-keyed
 * (triggers refuse it), so no lock is needed for the reference to hold at commit. Each inserted
 * operation is queued in `pending_operations` by the same statement.
 */
const INSERT_PENDING = `
  WITH arrival AS MATERIALIZED (
    SELECT u.*, nextval('operations_seq_seq'::regclass) AS seq
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[], $5::char(3)[], $6::uuid[], $7::uuid[],
                $8::uuid[], $9::int[], $10::jsonb[], $11::int[], $12::text[], $13::text[], $14::uuid[])
      WITH ORDINALITY
      AS u(id, client_id, type, amount, currency, from_wallet_id, to_wallet_id, hold_id, expires_in,
           metadata, partition, idempotency_key, request_hash, refund_of, n)
  ), referenced AS MATERIALIZED (
    SELECT a.id, a.client_id, a.type, a.amount, a.hold_id, a.expires_in, a.metadata, a.idempotency_key,
           a.request_hash, a.seq, a.n, c.id AS client_ref, f.id AS from_ref, t.id AS to_ref,
           h.id AS hold_ref, r.id AS refund_ref,
           coalesce(a.partition, f.partition, t.partition) AS partition,
           coalesce(a.currency, f.currency, t.currency) AS currency,
           CASE WHEN a.partition IS NULL THEN ${WALLET_REFUSAL} END AS refusal,
           c.id IS NOT NULL AND (a.partition IS NULL OR (
             (f.id IS NULL) = (a.from_wallet_id IS NULL) AND (t.id IS NULL) = (a.to_wallet_id IS NULL)
             AND (h.id IS NULL) = (a.hold_id IS NULL) AND (r.id IS NULL) = (a.refund_of IS NULL))) AS found
    FROM arrival a
    LEFT JOIN clients c ON c.id = a.client_id
    LEFT JOIN wallets f ON f.id = a.from_wallet_id
    LEFT JOIN wallets t ON t.id = a.to_wallet_id
    LEFT JOIN operations h ON h.id = a.hold_id
    LEFT JOIN operations r ON r.id = a.refund_of
  ), chosen AS (
    SELECT DISTINCT ON (client_id, idempotency_key COLLATE "C") *
    FROM referenced
    WHERE refusal IS NULL
    ORDER BY client_id, idempotency_key COLLATE "C", n
  ), inserted AS (
    INSERT INTO operations (id, client_id, type, amount, currency, from_wallet_id, to_wallet_id, hold_id,
                            refund_of, expires_at, metadata, partition, idempotency_key, request_hash, seq)
    SELECT id, client_ref, type, amount, currency, from_ref, to_ref, hold_ref, refund_ref,
           now() + make_interval(secs => expires_in), metadata, partition, idempotency_key, request_hash, seq
    FROM chosen
    WHERE NOT EXISTS (SELECT 1 FROM referenced WHERE NOT found)
    ORDER BY client_id, idempotency_key COLLATE "C"
    ON CONFLICT (client_id, idempotency_key) DO NOTHING
    RETURNING id, partition, currency, seq, created_at, expires_at
  ), queued AS (
    INSERT INTO pending_operations (partition, seq, operation_id)
    SELECT partition, seq, id FROM inserted
  )
  SELECT id, partition, currency, seq::text AS seq, created_at, expires_at,
         pg_current_xact_id()::text AS xid, NULL AS refusal, false AS dangling
  FROM inserted
  UNION ALL
  SELECT id, NULL, NULL, NULL, NULL, NULL, NULL, refusal, NOT found
  FROM referenced WHERE refusal IS NOT NULL OR NOT found`;

/**
 * The durable acceptance of a group: inserts every row whose (client, idempotency key) is free,
 * in one statement (sequence numbers follow the array order; {@link INSERT_PENDING} says in
 * which order the rows are inserted, and which of the rows sharing a key). The unique index
 * decides, not a read-then-write. Returns the inserted operations by id (a row in neither map
 * lost to an existing operation, or to an earlier row of its key), the rows refused by their
 * wallets, and the id of the transaction that inserted them, for a snapshot to be asked whether it
 * sees them (the statement is its own transaction unless `db` is in one). Throws, inserting
 * nothing, when a placed row names a client, wallet, hold or original that does not exist (the
 * api resolves them first: this is the database's guarantee, in place of foreign keys).
 */
export async function insertPendingMany(db: Queryable, rows: NewPendingOperation[]): Promise<InsertedGroup> {
  // Only what the database chose comes back; the rest is what was sent (less to format and parse).
  const r = await db.query<{
    id: string;
    partition: number | null;
    currency: string | null;
    seq: string;
    created_at: Date;
    expires_at: Date | null;
    xid: string | null;
    refusal: WalletRefusal | null;
    dangling: boolean;
  }>({
    name: "operations.insert-pending-many",
    text: INSERT_PENDING,
    values: [
      uuidArray(rows.map((o) => o.id)),
      uuidArray(rows.map((o) => o.clientId)),
      textArray(rows.map((o) => o.type)),
      int8Array(rows.map((o) => o.amount)),
      bpcharArray(rows.map((o) => o.currency)),
      uuidArray(rows.map((o) => o.fromWalletId)),
      uuidArray(rows.map((o) => o.toWalletId)),
      uuidArray(rows.map((o) => o.holdId)),
      int4Array(rows.map((o) => o.expiresInSeconds)),
      jsonbArray(rows.map((o) => JSON.stringify(o.metadata))),
      int4Array(rows.map((o) => o.partition)),
      textArray(rows.map((o) => o.idempotencyKey)),
      textArray(rows.map((o) => o.requestHash)),
      uuidArray(rows.map((o) => o.refundOf)),
    ],
  });
  const dangling = r.rows.filter((row) => row.dangling);
  if (dangling.length > 0) throw new DanglingReferenceError(dangling.map((row) => row.id));
  const sent = new Map(rows.map((o) => [o.id, o]));
  const inserted = new Map<string, Operation>();
  const refused = new Map<string, WalletRefusal>();
  for (const row of r.rows) {
    const o = sent.get(row.id);
    if (!o) continue;
    if (row.refusal) {
      refused.set(row.id, row.refusal);
      continue;
    }
    const { expiresInSeconds: _, ...columns } = o;
    inserted.set(row.id, {
      ...columns,
      partition: row.partition as number,
      currency: row.currency as string,
      refundOf: o.refundOf ?? null,
      expiresAt: row.expires_at,
      status: "pending",
      refundedAmount: 0n,
      failureCode: null,
      failureMessage: null,
      seq: BigInt(row.seq),
      createdAt: row.created_at,
      completedAt: null,
    });
  }
  const xid = r.rows.find((row) => row.xid)?.xid;
  return { inserted, refused, xid: xid ? BigInt(xid) : undefined };
}

/** What {@link insertPendingMany} inserted and refused, and in which transaction (undefined: nothing inserted). */
export interface InsertedGroup {
  inserted: Map<string, Operation>;
  refused: Map<string, WalletRefusal>;
  xid: bigint | undefined;
}

/**
 * The refusals the accept insert would give these rows placed by their wallets, by id (a row
 * absent may be inserted), without inserting: for an accept refused when overloaded, whose
 * wallet errors come first (docs/api.md).
 */
export async function walletRefusals(
  db: Queryable,
  rows: Pick<NewPendingOperation, "id" | "clientId" | "fromWalletId" | "toWalletId">[],
): Promise<Map<string, WalletRefusal>> {
  const r = await db.query<{ id: string; refusal: WalletRefusal }>({
    name: "wallets.refusals",
    text: `SELECT id, refusal FROM (
             SELECT a.id, ${WALLET_REFUSAL} AS refusal
             FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) AS a(id, client_id, from_wallet_id, to_wallet_id)
             LEFT JOIN wallets f ON f.id = a.from_wallet_id
             LEFT JOIN wallets t ON t.id = a.to_wallet_id) checked
           WHERE refusal IS NOT NULL`,
    values: [
      uuidArray(rows.map((o) => o.id)),
      uuidArray(rows.map((o) => o.clientId)),
      uuidArray(rows.map((o) => o.fromWalletId)),
      uuidArray(rows.map((o) => o.toWalletId)),
    ],
  });
  return new Map(r.rows.map((row) => [row.id, row.refusal]));
}

/**
 * Rows named a client, wallet or hold that does not exist, so the statement inserted nothing. A
 * programming error or a tampered database, never a client's: the api resolves every reference
 * before it inserts (the batcher retries a failed group key by key, so such a row fails alone).
 */
export class DanglingReferenceError extends Error {
  readonly operationIds: string[];
  constructor(operationIds: string[]) {
    super(`${operationIds.length} operation(s) reference a client, wallet or hold that does not exist`);
    this.name = "DanglingReferenceError";
    this.operationIds = operationIds;
  }
}

/** The operations holding these (client, idempotency key) pairs, keyed `${clientId}\0${key}`. */
export async function findByIdempotencyKeys(
  db: Queryable,
  pairs: { clientId: string; idempotencyKey: string }[],
): Promise<Map<string, Operation>> {
  const r = await db.query<Record<string, unknown>>({
    name: "operations.find-by-idempotency-keys",
    text: `SELECT ${COLUMNS} FROM operations
           WHERE (client_id, idempotency_key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
    values: [pairs.map((p) => p.clientId), pairs.map((p) => p.idempotencyKey)],
  });
  return new Map(
    r.rows.map((row) => {
      const operation = toOperation(row);
      return [idempotencyScope(operation.clientId, operation.idempotencyKey), operation];
    }),
  );
}

/** The scope of an idempotency key: keys are unique per client. */
export const idempotencyScope = (clientId: string, key: string): string => `${clientId}\u0000${key}`;
