/** @wallet-billing/sdk: a typed client of the wallet billing API (sdk/README.md). */
export { Billing } from "./billing.ts";
export { BillingConnectionError, BillingError } from "./errors.ts";
export type { components, operations, paths } from "./generated/openapi.ts";
export { PageIterator } from "./pages.ts";
export type { AcceptOptions } from "./resources/money-movements.ts";
export type { BulkSubmitted, WaitOptions } from "./resources/operations.ts";
export type { BillingOptions, CallOptions } from "./transport.ts";
export type * from "./types.ts";
export { verifyWebhook, type WebhookEvent, type WebhookHeaders } from "./webhooks.ts";
