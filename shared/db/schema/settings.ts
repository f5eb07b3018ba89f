import { pgTable, text } from "drizzle-orm/pg-core";

/** Deployment-wide facts fixed at the first migration, e.g. `partitions`. */
export const settings = pgTable("settings", {
  /** Setting name, e.g. "partitions". */
  key: text("key").primaryKey(),
  /** Its value, as text. */
  value: text("value").notNull(),
});
