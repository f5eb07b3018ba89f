import { z } from "zod";
import { bulkResponseSchema } from "../../shared/http/resources.ts";
import { bulkEnvelope } from "../../shared/http/schemas.ts";
import { bulkItemSchemas } from "../../shared/operation-types/catalog.ts";
import { clientSecurity, jsonResponse, postErrors } from "./common-docs.ts";
import { json } from "./money-route-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

/** Bulk submission (docs/api.md, "Bulk submission"): every type's items through the same accept path. */

type DiscriminatedItem = z.ZodObject<{ type: z.ZodLiteral<string> }>;

/** The documented body of a bulk submission: the envelope, its items each one of the single routes' bodies. */
const bulkBody = bulkEnvelope.extend({
  operations: z
    .array(
      z.discriminatedUnion("type", bulkItemSchemas as unknown as [DiscriminatedItem, ...DiscriminatedItem[]]),
    )
    .min(1)
    .max(1_000)
    .describe("1..1000 operations, each accepted or refused on its own, answered in this order"),
});

export const bulkRouteDocs: RouteDocs = {
  "POST /v1/operations/bulk": {
    operationId: "submitOperations",
    tags: ["Operations"],
    summary: "Submit up to 1,000 operations at once",
    description: `Each item is its own operation, accepted or refused on its own with the single route's checks, in the same order and with the same codes; its \`idempotencyKey\` follows the Idempotency-Key header's rules and shares its key space (an item and a single request with the same key and body are one operation). Items that debit the same wallet are accepted, and so applied, in array order. Two items with the same key: the first is the operation, a later one with the same body its replay (\`replayed: true\`), one with another body 422 \`idempotency_key_reused\`. Answered 200 with one result per item, in order: \`{ status: 202, replayed, operation }\` or \`{ status: 400 | 404 | 422, error }\` (a problem whose \`requestId\` is this request's), or \`{ status: 500 | 503, error }\` for an item the database failed on while others were accepted (a 503 item says whether it was created, as a single request's 503 does). The request is refused as a whole, and nothing created, only for its envelope: 400 \`validation_error\` when the body is not \`{ "operations": [1..1000 objects] }\` (an item's own errors go in its result), 413 over 1 MiB, 415, 429 (a bulk of n items counts n against the rate limit), 503 \`overloaded\` (backpressure, or the database failed and nothing of the request was created; retrying with the same keys is safe). Overloaded, a bulk none of whose items would create an operation (each item's key already taken, or the item refused by its own schema) is still answered, as each item alone would be: a replay is never refused.`,
    security: clientSecurity,
    requestBody: json(bulkBody),
    responses: { "200": jsonResponse("One result per item, in order", bulkResponseSchema), ...postErrors },
  },
};
