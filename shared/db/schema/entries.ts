import { bigint, pgTable, primaryKey, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";

/**
 * Double-entry ledger lines: every operation's entries sum to zero. Append-only. One index only,
 * the key, which serves every query of the contract: the entry list, the versions'
 * gaplessness, and `balance?at=` (a binary search of the versions: entries are dated in version
 * order). An entry is never looked up by its id, nor by its operation outside the audit's full
 * scans, nor by its date alone, so none has an index (each cost a B-tree insertion per entry, two
 * per operation). Its references are not foreign keys: the batch write
 * takes them from the wallet and operation rows it updates in the same statement, those rows
 * can never be deleted nor re-keyed, and the audit checks them (operations.ts says why).
 */
export const entries = pgTable(
  "entries",
  {
    /** UUIDv7, shown in the API; not a key (nothing looks an entry up by it). */
    id: uuid("id").notNull(),
    /** The operation that posted it (a reference the database keeps without a foreign key: see {@link entries}). */
    operationId: uuid("operation_id").notNull(),
    /** The wallet it moves (likewise). */
    walletId: uuid("wallet_id").notNull(),
    /** Signed minor units: negative debits, positive credits. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** The wallet's balance right after this entry. */
    balanceAfter: bigint("balance_after", { mode: "bigint" }).notNull(),
    /** The wallet's version after this entry: 1, 2, 3 … without gaps. Also the posting order. */
    walletVersion: bigint("wallet_version", { mode: "bigint" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    /**
     * A wallet's entries are numbered 1, 2, 3 … with no duplicate; also the listing order, and
     * `balance?at=`'s binary search (entries are dated in version order).
     */
    primaryKey({ name: "entries_pkey", columns: [t.walletId, t.walletVersion] }),
  ],
);

export type Entry = typeof entries.$inferSelect;
export type NewEntry = typeof entries.$inferInsert;
