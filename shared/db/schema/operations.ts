import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  char,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { OPERATION_TYPES, type OperationType, sqlTypeList } from "../../operation-types/catalog.ts";
import { createdAt } from "./columns.ts";

export { OPERATION_TYPES, type OperationType };

/** An operation's statuses: `pending`, then `succeeded` or `failed`, once. */
export const OPERATION_STATUSES = ["pending", "succeeded", "failed"] as const;

/**
 * Money movements, accepted `pending` and set `succeeded` or `failed` exactly once by a partition
 * runner. The runner finds pending ones in `pending_operations`, not here: no index of this table
 * names a column its status update changes, so that update is HOT (heap-only: no index entry),
 * with room left on each page by the table's `fillfactor` (migration 0004).
 *
 * Its references (`client_id`, `from_wallet_id`, `to_wallet_id`, `hold_id`) are not foreign keys:
 * a foreign-key check cost a probe and a row lock (a WAL record) per reference and row. The
 * database keeps the same guarantee another way (migration 0004, docs/design.md): the referenced
 * rows can never be deleted nor re-keyed (triggers refuse it), the accept insert takes every
 * reference from the referenced row (a join: a missing one inserts nothing and the code raises),
 * and the ledger audit checks every reference.
 */
export const operations = pgTable(
  "operations",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    /** The client that submitted it (a reference the database keeps: see {@link operations}). */
    clientId: uuid("client_id").notNull(),
    /** One of the catalog's types (shared/operation-types/catalog.ts). */
    type: text("type", { enum: OPERATION_TYPES }).notNull(),
    /** "pending", then "succeeded" or "failed". */
    status: text("status", { enum: OPERATION_STATUSES }).notNull().default("pending"),
    /** Minor units, 1..2^53-1. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** ISO 4217 code of both wallets. */
    currency: char("currency", { length: 3 }).notNull(),
    /**
     * Debited client wallet (a transfer's, a payout's; a hold's and its capture's and void's
     * source); null for a top-up (the funding account is debited).
     */
    fromWalletId: uuid("from_wallet_id"),
    /** Credited wallet (a hold's, capture's and void's: the hold's destination); null for a payout (the funding account is credited). */
    toWalletId: uuid("to_wallet_id"),
    /** The hold operation a capture or void resolves; null for every other type. */
    holdId: uuid("hold_id"),
    /** The transfer or capture a refund sends money back along; null for every other type. */
    refundOf: uuid("refund_of"),
    /**
     * The sum of a transfer's or capture's succeeded refunds, never above `amount`; written by the
     * batch that applies each refund (0 on every other type, where the API says null).
     */
    refundedAmount: bigint("refunded_amount", { mode: "bigint" }).notNull().default(sql`0`),
    /** A hold's expiry: its acceptance plus `expiresInSeconds`; null for every other type. */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    /** Failure code when `failed` (e.g. insufficient_funds). */
    failureCode: text("failure_code"),
    /** Human-readable failure message when `failed`. */
    failureMessage: text("failure_message"),
    /** Client-supplied string map. */
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** Partition of the wallet whose balance is checked (transfer source, top-up wallet). */
    partition: integer("partition").notNull(),
    /** Acceptance order. Taken at insert; commits may land out of order, so never a watermark. */
    seq: bigserial("seq", { mode: "bigint" }).notNull(),
    /**
     * The client's Idempotency-Key, unique per client. `COLLATE "C"` in the database (migration
     * 0009; drizzle's column builders cannot say it): compared byte by byte, never by language.
     */
    idempotencyKey: text("idempotency_key").notNull(),
    /** Hex SHA-256 of the canonical request (type + parsed body). */
    requestHash: text("request_hash").notNull(),
    createdAt: createdAt(),
    /** When it left `pending`. */
    completedAt: timestamp("completed_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    unique("operations_client_idempotency_key").on(t.clientId, t.idempotencyKey),
    check("operations_amount_positive", sql`${t.amount} > 0 AND ${t.amount} <= 9007199254740991`),
    check("operations_type_valid", sql`${t.type} IN (${sql.raw(sqlTypeList(() => true))})`),
    check(
      "operations_status_valid",
      sql`${t.status} IN (${sql.raw(OPERATION_STATUSES.map((status) => `'${status}'`).join(", "))})`,
    ),
    check("operations_source_matches_type", sql`(${t.type} = 'top_up') = (${t.fromWalletId} IS NULL)`),
    check("operations_destination_matches_type", sql`(${t.type} = 'payout') = (${t.toWalletId} IS NULL)`),
    check(
      "operations_hold_matches_type",
      sql`(${t.type} IN ('capture', 'void')) = (${t.holdId} IS NOT NULL)`,
    ),
    check("operations_refund_matches_type", sql`(${t.type} = 'refund') = (${t.refundOf} IS NOT NULL)`),
    check(
      "operations_refunded_within_amount",
      sql`${t.refundedAmount} >= 0 AND ${t.refundedAmount} <= ${t.amount} AND (${t.refundedAmount} = 0 OR ${t.type} IN (${sql.raw(sqlTypeList((l) => l.refundable))}))`,
    ),
    check("operations_expiry_matches_type", sql`(${t.type} = 'hold') = (${t.expiresAt} IS NOT NULL)`),
    check("operations_failure_iff_failed", sql`(${t.status} = 'failed') = (${t.failureCode} IS NOT NULL)`),
    check("operations_completed_iff_final", sql`(${t.status} = 'pending') = (${t.completedAt} IS NULL)`),
    index("operations_client_id_id_idx").on(t.clientId, t.id),
    // A wallet's operations, one index per side; a top-up has no source and a payout no
    // destination, so each leaves one of them alone (migration 0006).
    index("operations_from_wallet_id_idx").on(t.fromWalletId, t.id).where(sql`${t.fromWalletId} IS NOT NULL`),
    index("operations_to_wallet_id_idx").on(t.toWalletId, t.id).where(sql`${t.toWalletId} IS NOT NULL`),
    // A hold's captures and voids (no other type has a hold), for the sweeper: a hold whose
    // capture or void waits in the queue gets no expiry void (migration 0010). `hold_id` never
    // changes, so the status update stays HOT.
    index("operations_hold_id_idx").on(t.holdId).where(sql`${t.holdId} IS NOT NULL`),
  ],
);

export type Operation = typeof operations.$inferSelect;
export type NewOperation = typeof operations.$inferInsert;
