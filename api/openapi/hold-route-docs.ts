import { z } from "zod";
import { bulkResponseSchema } from "../../shared/http/resources.ts";
import {
  bulkEnvelope,
  bulkItemSchemas,
  captureBody,
  holdBody,
  payoutBody,
  voidBody,
} from "../../shared/http/schemas.ts";
import { clientSecurity, idParam, jsonResponse, postErrors, problems } from "./common-docs.ts";
import { ACCEPT_ORDER, accepted, idempotencyKey, json } from "./money-route-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

/** Payouts, holds and bulk submission (API.md, "Payouts", "Holds", "Bulk submission"): more of the same accept path. */

/** The documented body of a bulk submission: the envelope, its items each one of the single routes' bodies. */
const bulkBody = bulkEnvelope.extend({
  operations: z
    .array(z.discriminatedUnion("type", [...bulkItemSchemas]))
    .min(1)
    .max(1_000)
    .describe("1..1000 operations, each accepted or refused on its own, answered in this order"),
});

const STEPS =
  "A hold, its capture and its void are applied in acceptance order with the source wallet's other debits. A hold is captured or voided at most once, whatever arrives concurrently: the first applied wins, the rest fail `hold_not_active`, as does a capture or void of a hold whose own operation failed, or one accepted at or after the hold's `expiresAt`. A capture may be accepted while its hold is still pending: it is applied after it.";

export const holdRouteDocs: RouteDocs = {
  "POST /v1/operations/bulk": {
    operationId: "submitOperations",
    tags: ["Operations"],
    summary: "Submit up to 1,000 operations at once",
    description: `Each item is its own operation, accepted or refused on its own with the single route's checks, in the same order and with the same codes; its \`idempotencyKey\` follows the Idempotency-Key header's rules and shares its key space (an item and a single request with the same key and body are one operation). Items that debit the same wallet are accepted, and so applied, in array order. Two items with the same key: the first is the operation, a later one with the same body its replay (\`replayed: true\`), one with another body 422 \`idempotency_key_reused\`. Answered 200 with one result per item, in order: \`{ status: 202, replayed, operation }\` or \`{ status: 400 | 404 | 422, error }\` (a problem whose \`requestId\` is this request's), or \`{ status: 500 | 503, error }\` for an item the database failed on while others were accepted (a 503 item says whether it was created, as a single request's 503 does). The request is refused as a whole, and nothing created, only for its envelope: 400 \`validation_error\` when the body is not \`{ "operations": [1..1000 objects] }\` (an item's own errors go in its result), 413 over 1 MiB, 415, 429 (a bulk of n items counts n against the rate limit), 503 \`overloaded\` (backpressure, or the database failed and nothing of the request was created; retrying with the same keys is safe).`,
    security: clientSecurity,
    requestBody: json(bulkBody),
    responses: { "200": jsonResponse("One result per item, in order", bulkResponseSchema), ...postErrors },
  },
  "POST /v1/payouts": {
    operationId: "createPayout",
    tags: ["Operations"],
    summary: "Pay money out of a wallet",
    description: `Money leaves the system (a withdrawal to the outside world): the client's own wallet is debited and the currency's funding account credited, asynchronously. ${ACCEPT_ORDER} The wallet's available balance (its balance less its active holds) is checked when the payout is applied (\`insufficient_funds\`).`,
    security: clientSecurity,
    requestParams: { header: idempotencyKey },
    requestBody: json(payoutBody),
    responses: {
      "202": accepted,
      "404": problems.walletNotFound,
      "422": problems.unprocessable,
      ...postErrors,
    },
  },
  "POST /v1/holds": {
    operationId: "createHold",
    tags: ["Holds"],
    summary: "Reserve money (authorize)",
    description: `Reserves \`amount\` of the source wallet's available balance for a later capture to \`toWalletId\` (any existing wallet of the same currency), asynchronously: once applied the source's \`heldBalance\` grows and its \`availableBalance\` shrinks, no entry is posted, and the operation's \`hold\` shows the hold's state; or it fails \`insufficient_funds\`. A hold still active at \`expiresAt\` (its \`createdAt\` plus \`expiresInSeconds\`) is voided by the system: a \`void\` operation with \`metadata.reason = "expired"\` appears in the client's operations and webhooks. ${ACCEPT_ORDER} ${STEPS}`,
    security: clientSecurity,
    requestParams: { header: idempotencyKey },
    requestBody: json(holdBody),
    responses: {
      "202": accepted,
      "404": problems.walletNotFound,
      "422": problems.unprocessable,
      ...postErrors,
    },
  },
  "POST /v1/holds/:id/capture": {
    operationId: "captureHold",
    tags: ["Holds"],
    summary: "Capture a hold, wholly or in part",
    description: `Moves \`amount\` (all of the hold by default) from the hold's source to its destination (two entries) and releases the rest of the hold. \`:id\` is the hold operation's id. A capture above the held amount is a 422 \`amount_exceeds_hold\` at once. The request hash covers the body as sent: a capture without \`amount\` and one with the full amount are different requests under one key. A capture that fails (\`balance_limit_exceeded\` on the destination) leaves the hold active. ${STEPS}`,
    security: clientSecurity,
    requestParams: { path: idParam("The hold operation's id"), header: idempotencyKey },
    requestBody: json(captureBody),
    responses: {
      "202": accepted,
      "404": problems.holdNotFound,
      "422": problems.unprocessable,
      ...postErrors,
    },
  },
  "POST /v1/holds/:id/void": {
    operationId: "voidHold",
    tags: ["Holds"],
    summary: "Void a hold",
    description: `Releases all of the hold: no entry is posted; the source's \`heldBalance\` shrinks by the hold's amount. The void's \`amount\` is the amount it releases. ${STEPS}`,
    security: clientSecurity,
    requestParams: { path: idParam("The hold operation's id"), header: idempotencyKey },
    requestBody: json(voidBody),
    responses: { "202": accepted, "404": problems.holdNotFound, ...postErrors },
  },
};
