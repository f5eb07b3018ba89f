import type { Operation, WebhookEventType } from "../shared/db/schema/index.ts";
import { operationResource } from "../shared/http/resources.ts";

/**
 * The body of a delivery (API.md, "Webhooks"): `{ type, timestamp, data }`, `data` being the
 * operation exactly as `GET /v1/operations/:id` returns it. Built at send time from the
 * operation row, which is final and never changes once completed, so every retry of a message
 * carries the same bytes. `timestamp` is when the event happened: the operation's completion.
 */
export function webhookBody(eventType: WebhookEventType, operation: Operation): string {
  const occurredAt = operation.completedAt ?? operation.createdAt;
  return JSON.stringify({
    type: eventType,
    timestamp: occurredAt.toISOString(),
    data: operationResource(operation),
  });
}

/** The Standard Webhooks message id of a delivery: the same on every retry of it. */
export const messageId = (deliveryId: string): string => `msg_${deliveryId}`;
