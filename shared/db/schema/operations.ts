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
import { clients } from "./clients.ts";
import { createdAt } from "./columns.ts";
import { wallets } from "./wallets.ts";

/** Money movements, accepted `pending` and set `succeeded` or `failed` exactly once by a partition runner. */
export const operations = pgTable(
  "operations",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    /** The client that submitted it. */
    clientId: uuid("client_id")
      .notNull()
      .references(() => clients.id),
    /** "top_up" or "transfer". */
    type: text("type", { enum: ["top_up", "transfer"] }).notNull(),
    /** "pending", then "succeeded" or "failed". */
    status: text("status", { enum: ["pending", "succeeded", "failed"] })
      .notNull()
      .default("pending"),
    /** Minor units, 1..2^53-1. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** ISO 4217 code of both wallets. */
    currency: char("currency", { length: 3 }).notNull(),
    /** Debited client wallet of a transfer; null for a top-up (the funding account is debited). */
    fromWalletId: uuid("from_wallet_id").references(() => wallets.id),
    /** Credited wallet. */
    toWalletId: uuid("to_wallet_id")
      .notNull()
      .references(() => wallets.id),
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
    /** The client's Idempotency-Key, unique per client. */
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
    check("operations_type_valid", sql`${t.type} IN ('top_up', 'transfer')`),
    check("operations_status_valid", sql`${t.status} IN ('pending', 'succeeded', 'failed')`),
    check("operations_source_matches_type", sql`(${t.type} = 'transfer') = (${t.fromWalletId} IS NOT NULL)`),
    check("operations_failure_iff_failed", sql`(${t.status} = 'failed') = (${t.failureCode} IS NOT NULL)`),
    check("operations_completed_iff_final", sql`(${t.status} = 'pending') = (${t.completedAt} IS NULL)`),
    /** The runner's query: a partition's pending operations in acceptance order. */
    index("operations_pending_partition_seq_idx").on(t.partition, t.seq).where(sql`${t.status} = 'pending'`),
    index("operations_client_id_id_idx").on(t.clientId, t.id),
    index("operations_from_wallet_id_idx").on(t.fromWalletId, t.id),
    index("operations_to_wallet_id_idx").on(t.toWalletId, t.id),
  ],
);

export type Operation = typeof operations.$inferSelect;
export type NewOperation = typeof operations.$inferInsert;
