import { z } from "zod";
import { WEBHOOK_EVENT_TYPES, type WebhookEndpoint } from "../db/schema/index.ts";
import type { DeliveryRow } from "../db/webhook-endpoint-repo.ts";
import { pageOf, timestamp, uuid } from "./resources.ts";

/** The JSON shapes of docs/api.md's webhook resources (zod schemas for the OpenAPI document, and builders). */

const eventType = z.enum(WEBHOOK_EVENT_TYPES);

export const webhookEndpointSchema = z
  .strictObject({
    id: uuid,
    url: z.url().describe("Where deliveries are POSTed (http or https; a public address)"),
    events: z
      .array(eventType)
      .min(1)
      .max(WEBHOOK_EVENT_TYPES.length)
      .meta({ description: "The outcomes this endpoint hears about", override: { uniqueItems: true } }),
    createdAt: timestamp,
  })
  .meta({ id: "WebhookEndpoint" });
export type WebhookEndpointResource = z.infer<typeof webhookEndpointSchema>;

export const createdWebhookEndpointSchema = webhookEndpointSchema
  .extend({
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/)
      .describe(
        "The signing secret, shown this once: verify deliveries with a Standard Webhooks library keyed with it",
      ),
  })
  .meta({ id: "CreatedWebhookEndpoint" });

/** An endpoint as listed: never its secret, which only the creation answer shows. */
export function webhookEndpointResource(e: WebhookEndpoint): WebhookEndpointResource {
  return { id: e.id, url: e.url, events: e.events, createdAt: e.createdAt.toISOString() };
}

/** The creation answer: the only one that carries the signing secret. */
export function createdWebhookEndpointResource(
  e: WebhookEndpoint,
): z.infer<typeof createdWebhookEndpointSchema> {
  return { ...webhookEndpointResource(e), secret: e.secret };
}

export const webhookDeliverySchema = z
  .strictObject({
    id: uuid.describe("Also the `webhook-id` of every attempt, prefixed `msg_`"),
    eventType,
    operationId: uuid,
    status: z
      .enum(["pending", "succeeded", "failed"])
      .describe("`failed` after the last attempt, or when the endpoint was deleted"),
    attempts: z.int().min(0).describe("Attempts made so far"),
    lastStatusCode: z
      .int()
      .min(100)
      .max(999)
      .nullable()
      .describe("HTTP status (three digits) of the latest attempt; null if none answered"),
    nextAttemptAt: timestamp.nullable().describe("When the next attempt is due; null unless pending"),
  })
  .meta({ id: "WebhookDelivery" });
export type WebhookDeliveryResource = z.infer<typeof webhookDeliverySchema>;

export function webhookDeliveryResource(d: DeliveryRow): WebhookDeliveryResource {
  return {
    id: d.id,
    eventType: d.eventType,
    operationId: d.operationId,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    // Only a pending delivery has a next attempt (while one is in flight: its sender's lease end).
    nextAttemptAt: d.status === "pending" && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
  };
}

export const webhookEndpointPageSchema = pageOf(webhookEndpointSchema, "WebhookEndpointPage");
export const webhookDeliveryPageSchema = pageOf(webhookDeliverySchema, "WebhookDeliveryPage");
