import { randomBytes } from "node:crypto";
import type { Router } from "express";
import type { Database } from "../../shared/db/client.ts";
import {
  deleteClientEndpoint,
  findClientEndpoint,
  insertEndpoint,
  listClientEndpoints,
  listEndpointDeliveries,
  MAX_ENDPOINTS_PER_CLIENT,
} from "../../shared/db/webhook-endpoint-repo.ts";
import { ApiError } from "../../shared/errors.ts";
import { idSchema } from "../../shared/http/fields.ts";
import { createWebhookEndpointBody, pageQuery } from "../../shared/http/schemas.ts";
import {
  createdWebhookEndpointResource,
  webhookDeliveryResource,
  webhookEndpointResource,
} from "../../shared/http/webhook-resources.ts";
import { isUuid, newId } from "../../shared/ids.ts";
import type { AddressPolicy } from "../../shared/webhooks/address-guard.ts";
import { checkWebhookUrl } from "../../shared/webhooks/webhook-url.ts";
import { clientIdOf } from "../middleware/auth.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { mountedRouter } from "../middleware/request-context.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { validate } from "../validate.ts";

export interface WebhookEndpointsDeps {
  db: Database;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS and the resolver (the system's; a test's own to simulate DNS). */
  addressPolicy: AddressPolicy;
}

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks: the key is the base64-decoded part). */
const newSecret = (): string => `whsec_${randomBytes(32).toString("base64")}`;

const notFound = (): ApiError => new ApiError("not_found", "No webhook endpoint with this id.");

/**
 * `POST/GET /v1/webhook-endpoints`, `DELETE /v1/webhook-endpoints/:id` and
 * `GET /v1/webhook-endpoints/:id/deliveries`, for clients only. Another client's endpoint, a
 * deleted one and a malformed id are all 404 `not_found`.
 */
export function webhookEndpointsRoute(deps: WebhookEndpointsDeps): Router {
  const router = mountedRouter();

  router.post("/", jsonBody, async (req, res) => {
    const clientId = clientIdOf(res);
    const body = validate(createWebhookEndpointBody, req.body, "body");
    const checked = await checkWebhookUrl(body.url, deps.addressPolicy);
    if (!checked.ok) {
      throw new ApiError("validation_error", "The webhook endpoint URL is not allowed.", {
        errors: [{ path: "body.url", message: checked.message }],
      });
    }
    const endpoint = await insertEndpoint(deps.db, {
      id: newId(),
      clientId,
      url: checked.href,
      events: body.events,
      secret: newSecret(),
    });
    if (!endpoint) {
      throw new ApiError(
        "validation_error",
        `A client may have at most ${MAX_ENDPOINTS_PER_CLIENT} webhook endpoints; delete one first.`,
      );
    }
    res.status(201).json(createdWebhookEndpointResource(endpoint));
  });

  router.get("/", async (req, res) => {
    const clientId = clientIdOf(res);
    const q = validate(pageQuery, req.query, "query");
    const list = "webhook-endpoints";
    const beforeId = decodeCursor(list, q.cursor, idSchema);
    const rows = await listClientEndpoints(deps.db, clientId, {
      limit: q.limit + 1,
      ...(beforeId ? { beforeId } : {}),
    });
    res.json(toPage(list, rows, q.limit, webhookEndpointResource, (e) => e.id));
  });

  router.delete("/:id", async (req, res) => {
    const clientId = clientIdOf(res);
    const id = req.params.id;
    if (!isUuid(id) || !(await deleteClientEndpoint(deps.db, clientId, id.toLowerCase()))) throw notFound();
    res.status(204).end();
  });

  router.get("/:id/deliveries", async (req, res) => {
    const clientId = clientIdOf(res);
    const q = validate(pageQuery, req.query, "query");
    const id = req.params.id;
    const endpoint = isUuid(id) ? await findClientEndpoint(deps.db, clientId, id.toLowerCase()) : undefined;
    if (!endpoint) throw notFound();
    const list = `webhook-endpoints/${endpoint.id}/deliveries`;
    const beforeId = decodeCursor(list, q.cursor, idSchema);
    const rows = await listEndpointDeliveries(deps.db, endpoint.id, {
      limit: q.limit + 1,
      ...(beforeId ? { beforeId } : {}),
    });
    res.json(toPage(list, rows, q.limit, webhookDeliveryResource, (d) => d.id));
  });

  return router;
}
