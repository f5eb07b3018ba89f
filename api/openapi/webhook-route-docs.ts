import { createWebhookEndpointBody, pageQuery } from "../../shared/http/schemas.ts";
import {
  createdWebhookEndpointSchema,
  webhookDeliveryPageSchema,
  webhookEndpointPageSchema,
} from "../../shared/http/webhook-resources.ts";
import {
  authenticatedErrors,
  clientSecurity,
  idParam,
  jsonResponse,
  postErrors,
  problems,
  v1Headers,
} from "./common-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

/** `/v1/webhook-endpoints` (docs/api.md, "Webhooks"), documented from the zod schemas that validate them. */

const DELIVERY =
  "When an operation of this client reaches `succeeded` or `failed`, each of its endpoints subscribed to that event gets a POST with body `{ type, timestamp, data: <operation> }` and the Standard Webhooks headers `webhook-id` (the same on every retry of one message), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part of the secret after `whsec_`). Delivery is at least once and unordered: a non-2xx answer, a redirect (never followed) or a timeout is retried on the WEBHOOK_RETRY_SCHEDULE; after the last attempt the delivery is `failed`.";

export const webhookRouteDocs: RouteDocs = {
  "POST /v1/webhook-endpoints": {
    operationId: "createWebhookEndpoint",
    tags: ["Webhooks"],
    summary: "Create a webhook endpoint",
    description: `${DELIVERY} The URL must be http(s) and its host must be, or resolve only to, public unicast addresses (loopback, private, link-local, unique-local and similar addresses are refused in any notation, and checked again against the address connected to at delivery), unless the operator set WEBHOOK_ALLOW_PRIVATE_NETWORKS. A client may have at most 16 live endpoints. The signing secret is in this answer only.`,
    security: clientSecurity,
    requestBody: { required: true, content: { "application/json": { schema: createWebhookEndpointBody } } },
    responses: {
      "201": jsonResponse("The endpoint, with its signing secret", createdWebhookEndpointSchema),
      ...postErrors,
    },
  },
  "GET /v1/webhook-endpoints": {
    operationId: "listWebhookEndpoints",
    tags: ["Webhooks"],
    summary: "List the client's webhook endpoints",
    description: "Live (not deleted) endpoints of the calling client, newest first; never their secrets.",
    security: clientSecurity,
    requestParams: { query: pageQuery },
    responses: {
      "200": jsonResponse("A page of endpoints", webhookEndpointPageSchema),
      ...authenticatedErrors,
    },
  },
  "DELETE /v1/webhook-endpoints/:id": {
    operationId: "deleteWebhookEndpoint",
    tags: ["Webhooks"],
    summary: "Delete a webhook endpoint",
    description:
      "The endpoint gets no further delivery: its pending deliveries become `failed` (an attempt already under way finishes). Another client's endpoint, or one already deleted, is a 404.",
    security: clientSecurity,
    requestParams: { path: idParam("Endpoint id") },
    responses: {
      "204": { description: "Deleted", headers: v1Headers },
      "404": problems.notFound,
      ...authenticatedErrors,
    },
  },
  "GET /v1/webhook-endpoints/:id/deliveries": {
    operationId: "listWebhookDeliveries",
    tags: ["Webhooks"],
    summary: "List an endpoint's deliveries",
    description:
      "One delivery per event sent to this endpoint, newest first, with the attempts made so far, the status code of the latest and when the next is due.",
    security: clientSecurity,
    requestParams: { path: idParam("Endpoint id"), query: pageQuery },
    responses: {
      "200": jsonResponse("A page of deliveries", webhookDeliveryPageSchema),
      "404": problems.notFound,
      ...authenticatedErrors,
    },
  },
};
