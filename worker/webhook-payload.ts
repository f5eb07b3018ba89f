import { Webhook } from "standardwebhooks";
import type { Operation, WebhookEventType } from "../shared/db/schema/index.ts";
import { operationAsCompleted } from "../shared/http/resources.ts";

/**
 * The body of a delivery (docs/api.md, "Webhooks"): `{ type, timestamp, data }`, `data` being the
 * operation as `GET /v1/operations/:id` returned it when it completed ({@link operationAsCompleted}),
 * built at send time, so every retry of a message carries the same bytes. `timestamp` is when
 * the event happened: the operation's completion.
 */
export function webhookBody(eventType: WebhookEventType, operation: Operation): string {
  const occurredAt = operation.completedAt ?? operation.createdAt;
  return JSON.stringify({
    type: eventType,
    timestamp: occurredAt.toISOString(),
    data: operationAsCompleted(operation),
  });
}

/** The Standard Webhooks message id of a delivery: the same on every retry of it. */
export const messageId = (deliveryId: string): string => `msg_${deliveryId}`;

/**
 * The request headers of one attempt, signed by the reference implementation
 * (`standardwebhooks`): `v1,<base64 HMAC-SHA256>` of `"<webhook-id>.<webhook-timestamp>.<body>"`
 * keyed with the base64-decoded part of the secret. `at` is the attempt's start; its Unix
 * seconds are the `webhook-timestamp`, which receivers check against their clock (±5 min).
 */
export function signedHeaders(
  deliveryId: string,
  secret: string,
  body: string,
  at: Date,
): Record<string, string> {
  const id = messageId(deliveryId);
  return {
    "content-type": "application/json",
    "user-agent": "wallet-billing-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1_000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}
