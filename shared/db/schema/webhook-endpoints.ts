import { sql } from "drizzle-orm";
import { check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { clients } from "./clients.ts";
import { createdAt } from "./columns.ts";

/** The event types an endpoint can subscribe to (docs/api.md, "Webhooks"). */
export const WEBHOOK_EVENT_TYPES = ["operation.succeeded", "operation.failed"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Where a client wants to hear about its operations' outcomes. Deleted endpoints are kept (soft delete). */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    /** UUIDv7. */
    id: uuid("id").primaryKey(),
    /** The owner: only its operations are sent here. */
    clientId: uuid("client_id")
      .notNull()
      .references(() => clients.id),
    /** http(s) URL as normalised by the WHATWG URL parser; checked against SSRF at creation and at every attempt. */
    url: text("url").notNull(),
    /** Subscribed event types, a non-empty subset of WEBHOOK_EVENT_TYPES without repeats. */
    events: text("events").array().notNull().$type<WebhookEventType[]>(),
    /**
     * The signing secret, `whsec_` + base64 of 32 random bytes. Stored as is, unlike API keys:
     * the server needs the secret itself to compute each delivery's HMAC, and a hash cannot sign.
     * It is returned once (creation) and never logged.
     */
    secret: text("secret").notNull(),
    createdAt: createdAt(),
    /** Set by DELETE; a deleted endpoint gets nothing more and is no longer listed. */
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    check(
      "webhook_endpoints_events_valid",
      sql`cardinality(${t.events}) >= 1 AND ${t.events} <@ ARRAY['operation.succeeded', 'operation.failed']::text[]`,
    ),
    /** The runner's join (a client's live endpoints) and the list route (newest first). */
    index("webhook_endpoints_live_client_id_id_idx").on(t.clientId, t.id).where(sql`${t.deletedAt} IS NULL`),
  ],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type NewWebhookEndpoint = typeof webhookEndpoints.$inferInsert;
