import { bigint, index, pgTable, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";
import { operations } from "./operations.ts";
import { wallets } from "./wallets.ts";

/** Double-entry ledger lines: every operation's entries sum to zero. Append-only. */
export const entries = pgTable(
  "entries",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    operationId: uuid("operation_id")
      .notNull()
      .references(() => operations.id),
    walletId: uuid("wallet_id")
      .notNull()
      .references(() => wallets.id),
    /** Signed minor units: negative debits, positive credits. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** The wallet's balance right after this entry. */
    balanceAfter: bigint("balance_after", { mode: "bigint" }).notNull(),
    /** The wallet's version after this entry: 1, 2, 3 … without gaps. Also the posting order. */
    walletVersion: bigint("wallet_version", { mode: "bigint" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("entries_wallet_id_wallet_version_key").on(t.walletId, t.walletVersion),
    index("entries_operation_id_idx").on(t.operationId),
    /** `GET /v1/wallets/:id/balance?at=`: the newest entry at or before an instant, one probe. */
    index("entries_wallet_id_created_at_idx").on(t.walletId, t.createdAt, t.walletVersion),
  ],
);

export type Entry = typeof entries.$inferSelect;
export type NewEntry = typeof entries.$inferInsert;
