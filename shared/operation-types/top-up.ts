import { oneWalletBody } from "../http/fields.ts";
import { defineOperationType } from "./define.ts";
import { walletPlacement } from "./placement.ts";

/** A top-up: money from outside (the currency's funding account) into the caller's wallet. */
export const topUp = defineOperationType({
  type: "top_up",
  path: "/top-ups",
  body: oneWalletBody(),
  docs: {
    operationId: "createTopUp",
    tag: "Operations",
    summary: "Top up a wallet",
    description:
      "Credits the client's own wallet with money from outside (the currency's funding account), asynchronously. Operations that check the same wallet's balance (its top-ups, its outgoing transfers) are applied in acceptance order.",
    notFound: "wallet_not_found",
  },
  ledger: { posts: true, funding: "debit", refundable: false },
  // Applied in the wallet's partition, whose funding account it debits.
  place: async (request) => walletPlacement(request.amount, null, request.walletId),
});
