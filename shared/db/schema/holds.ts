import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { operations } from "./operations.ts";
import { wallets } from "./wallets.ts";

/** A hold's states (docs/api.md, "Holds"): `active` until captured, voided or expired, once. */
export const HOLD_STATUSES = ["active", "captured", "voided", "expired"] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/**
 * Money reserved by a succeeded hold operation, and what became of it. Written only by the
 * runner of the hold's partition (its source wallet's), in the batch that applies the hold and
 * in the one that captures, voids or expires it, so the batch's locks cover it. The reserved
 * money itself is the source wallet's `held_balance`.
 */
export const holds = pgTable(
  "holds",
  {
    /** The hold operation's id. */
    operationId: uuid("operation_id")
      .primaryKey()
      .references(() => operations.id),
    /** The reserved wallet (the hold operation's source). */
    fromWalletId: uuid("from_wallet_id")
      .notNull()
      .references(() => wallets.id),
    /** Where a capture sends the money. */
    toWalletId: uuid("to_wallet_id")
      .notNull()
      .references(() => wallets.id),
    /** Minor units reserved, 1..2^53-1. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** One of {@link HOLD_STATUSES}. */
    status: text("status", { enum: HOLD_STATUSES }).notNull(),
    /** When the sweeper voids it if still active. */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    /** Minor units a capture moved (the rest was released); null unless captured. */
    capturedAmount: bigint("captured_amount", { mode: "bigint" }),
    /** When it stopped being active; null while active. */
    releasedAt: timestamp("released_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    check("holds_status_valid", sql`${t.status} IN ('active', 'captured', 'voided', 'expired')`),
    check("holds_amount_positive", sql`${t.amount} > 0 AND ${t.amount} <= 9007199254740991`),
    check(
      "holds_captured_within_amount",
      sql`(${t.status} = 'captured') = (${t.capturedAmount} IS NOT NULL) AND (${t.capturedAmount} IS NULL OR (${t.capturedAmount} > 0 AND ${t.capturedAmount} <= ${t.amount}))`,
    ),
    check("holds_released_iff_resolved", sql`(${t.status} = 'active') = (${t.releasedAt} IS NULL)`),
    /** The sweeper's expiry scan: active holds by expiry, and nothing else. */
    index("holds_active_expires_at_idx").on(t.expiresAt).where(sql`${t.status} = 'active'`),
    /** The audit's and the wallet's view: a wallet's active holds. */
    index("holds_active_from_wallet_idx").on(t.fromWalletId).where(sql`${t.status} = 'active'`),
  ],
);

export type Hold = typeof holds.$inferSelect;
