import { Webhook } from "standardwebhooks";
import type { Operation } from "./types.ts";

/** The body of a webhook delivery: an operation reached `succeeded` or `failed`. */
export interface WebhookEvent {
  type: "operation.succeeded" | "operation.failed";
  /** When the event was made, ISO 8601. */
  timestamp: string;
  /** The operation exactly as `GET /v1/operations/:id` returns it. */
  data: Operation;
}

/** Request headers as Node's `IncomingMessage` or fetch's `Headers` carry them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Verifies a delivery and returns its event, or throws (standardwebhooks' `WebhookVerificationError`)
 * when the signature does not match or `webhook-timestamp` is more than 5 minutes off. `body` is
 * the raw request body, exactly as received (verify before parsing: re-serialized JSON would not
 * match); `secret` is the endpoint's `whsec_…`. Deduplicate on the `webhook-id` header: delivery
 * is at least once.
 */
export function verifyWebhook(
  secret: string,
  body: string | Uint8Array,
  headers: WebhookHeaders,
): WebhookEvent {
  const get = (name: string): string => {
    const value = headers instanceof Headers ? headers.get(name) : headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? "";
  };
  const payload = typeof body === "string" ? body : new TextDecoder().decode(body);
  return new Webhook(secret).verify(payload, {
    "webhook-id": get("webhook-id"),
    "webhook-timestamp": get("webhook-timestamp"),
    "webhook-signature": get("webhook-signature"),
  }) as WebhookEvent;
}
