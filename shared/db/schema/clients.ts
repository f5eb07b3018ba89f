import { pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";

/** API clients. The key itself is never stored: only its SHA-256 and a display prefix. */
export const clients = pgTable(
  "clients",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    /** Display name, 1..200 characters. */
    name: text("name").notNull(),
    /** Hex SHA-256 of the full API key: the lookup key of authentication. */
    apiKeyHash: text("api_key_hash").notNull(),
    /** The first characters of the key (e.g. "sk_AbCd"), to tell keys apart in a console. */
    apiKeyPrefix: text("api_key_prefix").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("clients_api_key_hash_key").on(t.apiKeyHash)],
);

export type Client = typeof clients.$inferSelect;
export type NewClient = typeof clients.$inferInsert;
