import { createHash, randomBytes } from "node:crypto";
import type { Router } from "express";
import type { Database } from "../../shared/db/client.ts";
import { insertClient } from "../../shared/db/client-repo.ts";
import { createClientBody } from "../../shared/http/schemas.ts";
import { newId } from "../../shared/ids.ts";
import { requireAdmin } from "../middleware/auth.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { mountedRouter } from "../middleware/request-context.ts";
import { validate } from "../validate.ts";

/**
 * `POST /v1/clients` (operator only: app.ts refuses other keys before the body is read, and this
 * route again): the API key is shown once, here, and stored as its SHA-256.
 */
export function clientsRoute(deps: { db: Database }): Router {
  const router = mountedRouter();
  router.post("/", requireAdmin, jsonBody, async (req, res) => {
    const body = validate(createClientBody, req.body, "body");
    const apiKey = `sk_${randomBytes(32).toString("base64url")}`;
    const client = await insertClient(deps.db, {
      id: newId(),
      name: body.name,
      apiKeyHash: createHash("sha256").update(apiKey).digest("hex"),
      apiKeyPrefix: apiKey.slice(0, 7),
    });
    res
      .status(201)
      .json({ id: client.id, name: client.name, apiKey, createdAt: client.createdAt.toISOString() });
  });
  return router;
}
