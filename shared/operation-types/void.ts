import { z } from "zod";
import { metadataSchema } from "../http/fields.ts";
import { defineOperationType } from "./define.ts";
import { HOLD_STEPS } from "./hold.ts";
import { holdStep } from "./hold-step.ts";

/** A void: releases all of a hold (sent by the client, or by the system once the hold expired). */
export const voidHold = defineOperationType({
  type: "void",
  path: "/holds/:id/void",
  pathId: "holdId",
  body: z.strictObject({
    metadata: metadataSchema.default({}),
  }),
  docs: {
    operationId: "voidHold",
    tag: "Holds",
    summary: "Void a hold",
    description: `Releases all of the hold: no entry is posted; the source's \`heldBalance\` shrinks by the hold's amount. The void's \`amount\` is the amount it releases. ${HOLD_STEPS}`,
    pathIdDescription: "The hold operation's id",
    notFound: "hold_not_found",
  },
  ledger: { posts: false, funding: null, refundable: false },
  place: (request, lookups, clientId) => holdStep(lookups, clientId, request.holdId),
});
