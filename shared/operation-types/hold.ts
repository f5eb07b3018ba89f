import { z } from "zod";
import { twoWalletBody } from "../http/fields.ts";
import { defineOperationType } from "./define.ts";
import { walletPlacement } from "./placement.ts";

/** Longest a hold may last: 30 days, s. */
export const MAX_HOLD_SECONDS = 2_592_000;

/** What the docs of a hold, its capture and its void all say of the three. */
export const HOLD_STEPS =
  "A hold, its capture and its void are applied in acceptance order with the source wallet's other debits. A hold is captured or voided at most once, whatever arrives concurrently: the first applied wins, the rest fail `hold_not_active`, as does a capture or void of a hold whose own operation failed, or one accepted at or after the hold's `expiresAt`. A capture may be accepted while its hold is still pending: it is applied after it.";

/** A hold: reserves money of the caller's wallet for a later capture to a destination. */
export const hold = defineOperationType({
  type: "hold",
  path: "/holds",
  body: twoWalletBody({
    expiresInSeconds: z
      .number()
      .int("a whole number of seconds")
      .min(1)
      .max(MAX_HOLD_SECONDS)
      .default(604_800)
      .describe(
        "Seconds until the system voids the hold if it is still active, 1..2592000 (30 days); 7 days by default",
      ),
  }),
  docs: {
    operationId: "createHold",
    tag: "Holds",
    summary: "Reserve money (authorize)",
    description: `Reserves \`amount\` of the source wallet's available balance for a later capture to \`toWalletId\` (any existing wallet of the same currency), asynchronously: once applied the source's \`heldBalance\` grows and its \`availableBalance\` shrinks, no entry is posted, and the operation's \`hold\` shows the hold's state; or it fails \`insufficient_funds\`. A hold still active at \`expiresAt\` (its \`createdAt\` plus \`expiresInSeconds\`) is voided by the system: a \`void\` operation with \`metadata.reason = "expired"\` appears in the client's operations and webhooks, unless a capture or void accepted before \`expiresAt\` is still waiting to be applied (that step decides the hold). ${HOLD_STEPS}`,
    notFound: "wallet_not_found",
  },
  ledger: { posts: false, funding: null, refundable: false },
  // Reserved in the source's partition, where its capture or void will be applied too.
  place: async (request) => ({
    ...walletPlacement(request.amount, request.fromWalletId, request.toWalletId),
    expiresInSeconds: request.expiresInSeconds,
  }),
});
