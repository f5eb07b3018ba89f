import { sql } from "drizzle-orm";
import {
  bigint,
  char,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { clients } from "./clients.ts";
import { createdAt, updatedAt } from "./columns.ts";

/**
 * Client wallets and the system's external funding accounts (one per currency and partition,
 * created with the first wallet of a currency; they may go negative, down to bigint's -2^63).
 * `fillfactor = 90` (migration 0007, not expressible here) leaves room on each page for a balance
 * update's new version, so that update is HOT even on a page of wallets created together.
 */
export const wallets = pgTable(
  "wallets",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    /** "client" or "funding". */
    kind: text("kind", { enum: ["client", "funding"] }).notNull(),
    /** Owner; null for funding accounts. */
    clientId: uuid("client_id").references(() => clients.id),
    /** ISO 4217 code. Never changes. */
    currency: char("currency", { length: 3 }).notNull(),
    /** Minor units. 0..2^53-1 for client wallets (CHECK); unbounded for funding accounts. */
    balance: bigint("balance", { mode: "bigint" }).notNull().default(sql`0`),
    /**
     * Minor units reserved by the wallet's active holds (their sum); 0..balance for a client
     * wallet (CHECK), always 0 for a funding account. Moves when a hold is placed or released,
     * without an entry: entries are posted only when money moves.
     */
    heldBalance: bigint("held_balance", { mode: "bigint" }).notNull().default(sql`0`),
    /** Number of entries posted to the wallet. */
    version: bigint("version", { mode: "bigint" }).notNull().default(sql`0`),
    /** Partition queue whose runner debits this wallet, computed once at creation. Never changes. */
    partition: integer("partition").notNull(),
    /** Client-supplied string map (docs/api.md limits). */
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check(
      "wallets_client_balance_bounds",
      sql`${t.kind} <> 'client' OR (${t.balance} >= 0 AND ${t.balance} <= 9007199254740991)`,
    ),
    check(
      "wallets_held_within_balance",
      sql`${t.heldBalance} >= 0 AND (${t.kind} = 'client' OR ${t.heldBalance} = 0) AND ${t.heldBalance} <= greatest(${t.balance}, 0)`,
    ),
    check("wallets_kind_valid", sql`${t.kind} IN ('client', 'funding')`),
    check("wallets_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("wallets_owner_matches_kind", sql`(${t.kind} = 'client') = (${t.clientId} IS NOT NULL)`),
    index("wallets_client_id_id_idx").on(t.clientId, t.id),
    uniqueIndex("wallets_funding_currency_partition_key")
      .on(t.currency, t.partition)
      .where(sql`${t.kind} = 'funding'`),
  ],
);

export type Wallet = typeof wallets.$inferSelect;
export type NewWallet = typeof wallets.$inferInsert;
