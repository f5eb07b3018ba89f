import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { webhookDeliveries } from "./webhook-deliveries.ts";

/** One HTTP attempt of a delivery, whatever its outcome. Append-only. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    /** When the attempt started (the `webhook-timestamp` it was signed with). */
    attemptedAt: timestamp("attempted_at", { withTimezone: true, mode: "date" }).notNull(),
    /** Wall time of the attempt, ms, from before the connection to the response status (or the failure). */
    durationMs: integer("duration_ms").notNull(),
    /** The HTTP status the endpoint answered; null when none came (timeout, refused, connection error). */
    statusCode: integer("status_code"),
    /** Short description of a failure (never the URL, the secret or the body); null on a 2xx. */
    error: text("error"),
  },
  (t) => [
    check("webhook_attempts_duration_nonnegative", sql`${t.durationMs} >= 0`),
    /** Attempt count and last status code per delivery. */
    index("webhook_attempts_delivery_id_attempted_at_idx").on(t.deliveryId, t.attemptedAt),
  ],
);

export type WebhookAttempt = typeof webhookAttempts.$inferSelect;
