import { z } from "zod";
import type { OriginalFacts } from "../db/refund-facts-repo.ts";
import { ApiError } from "../errors.ts";
import { amountSchema, idSchema, metadataSchema } from "../http/fields.ts";
import { defineOperationType, NO_REFERENCES, type Placement } from "./define.ts";

/** A refund: the receiver of a transfer or capture sends all or part of it back. */
export const refund = defineOperationType({
  type: "refund",
  path: "/refunds",
  body: z.strictObject({
    operationId: idSchema.describe(
      "The original: a succeeded transfer or capture whose destination wallet is the caller's",
    ),
    amount: amountSchema
      .optional()
      .describe("Minor units to send back, 1..the original's amount; all of it by default"),
    metadata: metadataSchema.default({}),
  }),
  docs: {
    operationId: "createRefund",
    tag: "Operations",
    summary: "Refund a transfer or capture, wholly or in part",
    description: `Sends money back along \`operationId\`, the original: a \`succeeded\` \`transfer\` or \`capture\` whose destination wallet is this client's. The receiver refunds, as a merchant refunds a charge; the original may have been submitted by another client (its id is on the receiver's entries). The refund debits the original's \`toWalletId\` and credits its \`fromWalletId\` (its own \`fromWalletId\` and \`toWalletId\` are those, swapped), and names the original in \`refundOf\`; it is applied in acceptance order with the other debits of the wallet it debits. Refunds may be partial and several: the original's \`refundedAmount\` is the sum of its succeeded refunds, and however many arrive at once, concurrently or in a bulk, that sum never passes the original's amount. At acceptance: 404 \`operation_not_found\` for an id this client neither submitted nor received; 422 \`operation_not_refundable\` for one it did that is not such an original (another type, a transfer it sent into another client's wallet, one still \`pending\` or \`failed\`); 422 \`amount_exceeds_refundable\` for more than the original's amount. When applied, it fails \`insufficient_funds\` (the refunding wallet's available balance), \`balance_limit_exceeded\`, or \`amount_exceeds_refundable\` (the original's succeeded refunds and this one would pass its amount). The request hash covers the body as sent: a refund without \`amount\` and one with the full amount are different requests under one key.`,
    notFound: "operation_not_found",
  },
  ledger: { posts: true, funding: null, refundable: false },
  place: async (request, lookups, clientId) =>
    refundPlacement(await lookups.original(request.operationId), clientId, request.amount),
});

/**
 * A refund's acceptance checks (docs/api.md, "Refunds"): the original must be one the caller
 * submitted or received (404 otherwise, as for a missing one), a succeeded transfer or capture
 * into the caller's wallet (422 otherwise), and the amount at most the original's. The refund
 * debits the original's destination, the receiver's wallet, so it is applied in that wallet's
 * partition, in order with its other debits and with every other refund of the same original.
 */
function refundPlacement(
  original: OriginalFacts | undefined,
  clientId: string,
  requested?: number,
): Placement {
  const received = original?.receiverId === clientId;
  if (!original || (original.clientId !== clientId && !received)) {
    throw new ApiError(
      "operation_not_found",
      "No operation with this id was submitted or received by this client.",
    );
  }
  const { fromWalletId, toWalletId, receiverPartition } = original;
  if (
    !received ||
    !original.refundable ||
    original.status !== "succeeded" ||
    fromWalletId === null ||
    toWalletId === null ||
    receiverPartition === null
  ) {
    throw new ApiError(
      "operation_not_refundable",
      "Only a succeeded transfer or capture into one of this client's wallets can be refunded.",
    );
  }
  const amount = requested === undefined ? original.amount : BigInt(requested);
  if (amount > original.amount) {
    throw new ApiError(
      "amount_exceeds_refundable",
      `A refund sends back at most the original's amount (${original.amount}).`,
    );
  }
  return {
    partition: receiverPartition,
    currency: original.currency,
    amount,
    fromWalletId: toWalletId,
    toWalletId: fromWalletId,
    ...NO_REFERENCES,
    refundOf: original.id,
  };
}
