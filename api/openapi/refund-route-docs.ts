import { refundBody } from "../../shared/http/schemas.ts";
import { clientSecurity, postErrors, problems } from "./common-docs.ts";
import { ACCEPT_ORDER, accepted, idempotencyKey, json } from "./money-route-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

/** Refunds (API.md, "Refunds"): one more debit on the same accept path. */
export const refundRouteDocs: RouteDocs = {
  "POST /v1/refunds": {
    operationId: "createRefund",
    tags: ["Operations"],
    summary: "Refund a transfer or capture, wholly or in part",
    description: `Sends money back along \`operationId\`, the original: a \`succeeded\` \`transfer\` or \`capture\` whose destination wallet is this client's. The receiver refunds, as a merchant refunds a charge; the original may have been submitted by another client (its id is on the receiver's entries). The refund debits the original's \`toWalletId\` and credits its \`fromWalletId\` (its own \`fromWalletId\` and \`toWalletId\` are those, swapped), and names the original in \`refundOf\`; it is applied in acceptance order with the other debits of the wallet it debits. Refunds may be partial and several: the original's \`refundedAmount\` is the sum of its succeeded refunds, and however many arrive at once, concurrently or in a bulk, that sum never passes the original's amount. At acceptance: 404 \`operation_not_found\` for an id this client neither submitted nor received; 422 \`operation_not_refundable\` for one it did that is not such an original (another type, a transfer it sent into another client's wallet, one still \`pending\` or \`failed\`); 422 \`amount_exceeds_refundable\` for more than the original's amount. When applied, it fails \`insufficient_funds\` (the refunding wallet's available balance), \`balance_limit_exceeded\`, or \`amount_exceeds_refundable\` (the original's succeeded refunds and this one would pass its amount). The request hash covers the body as sent: a refund without \`amount\` and one with the full amount are different requests under one key. ${ACCEPT_ORDER}`,
    security: clientSecurity,
    requestParams: { header: idempotencyKey },
    requestBody: json(refundBody),
    responses: {
      "202": accepted,
      "404": problems.operationNotFound,
      "422": problems.unprocessable,
      ...postErrors,
    },
  },
};
