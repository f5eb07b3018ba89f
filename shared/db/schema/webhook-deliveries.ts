import { sql } from "drizzle-orm";
import { check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.ts";
import { operations } from "./operations.ts";
import { webhookEndpoints } from "./webhook-endpoints.ts";

/**
 * One message: one operation outcome for one endpoint. Written by the partition runner in the
 * money transaction (docs/design.md step 5), then claimed, sent and retried by webhook senders.
 * Its id is the Standard Webhooks message id (`webhook-id: msg_<id>`), the same on every retry.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    /** UUIDv7, generated in SQL by the runner's insert. */
    id: uuid("id").primaryKey(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id),
    /** The operation whose outcome this announces; the body is built from it at send time. */
    operationId: uuid("operation_id")
      .notNull()
      .references(() => operations.id),
    /** "operation.succeeded" or "operation.failed". */
    eventType: text("event_type", { enum: ["operation.succeeded", "operation.failed"] }).notNull(),
    /** "pending" until an attempt got a 2xx ("succeeded") or the last attempt failed or the endpoint was deleted ("failed"). */
    status: text("status", { enum: ["pending", "succeeded", "failed"] })
      .notNull()
      .default("pending"),
    /**
     * When a sender may claim it next: the retry time, or while an attempt is in flight the end
     * of that sender's lease (a crashed sender's claim expires then). Null once final.
     */
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    check(
      "webhook_deliveries_event_type_valid",
      sql`${t.eventType} IN ('operation.succeeded', 'operation.failed')`,
    ),
    check("webhook_deliveries_status_valid", sql`${t.status} IN ('pending', 'succeeded', 'failed')`),
    check(
      "webhook_deliveries_next_attempt_iff_pending",
      sql`(${t.status} = 'pending') = (${t.nextAttemptAt} IS NOT NULL)`,
    ),
    /** The senders' claim: due pending deliveries, oldest due first. */
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    /** The deliveries list of an endpoint, newest first. */
    index("webhook_deliveries_endpoint_id_id_idx").on(t.endpointId, t.id),
  ],
);

export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
