import { z } from "zod";
import { amountSchema, metadataSchema } from "../http/fields.ts";
import { defineOperationType } from "./define.ts";
import { HOLD_STEPS } from "./hold.ts";
import { holdStep } from "./hold-step.ts";

/** A capture: moves all or part of a hold from its source to its destination, releasing the rest. */
export const capture = defineOperationType({
  type: "capture",
  path: "/holds/:id/capture",
  pathId: "holdId",
  body: z.strictObject({
    amount: amountSchema.optional().describe("Minor units to move, 1..the held amount; all of it by default"),
    metadata: metadataSchema.default({}),
  }),
  docs: {
    operationId: "captureHold",
    tag: "Holds",
    summary: "Capture a hold, wholly or in part",
    description: `Moves \`amount\` (all of the hold by default) from the hold's source to its destination (two entries) and releases the rest of the hold. \`:id\` is the hold operation's id. A capture above the held amount is a 422 \`amount_exceeds_hold\` at once. The request hash covers the body as sent: a capture without \`amount\` and one with the full amount are different requests under one key. A capture that fails (\`balance_limit_exceeded\` on the destination) leaves the hold active. The receiver may refund it (\`POST /v1/refunds\`). ${HOLD_STEPS}`,
    pathIdDescription: "The hold operation's id",
    notFound: "hold_not_found",
  },
  ledger: { posts: true, funding: null, refundable: true },
  place: (request, lookups, clientId) => holdStep(lookups, clientId, request.holdId, request.amount),
});
