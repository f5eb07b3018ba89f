import { oneWalletBody } from "../http/fields.ts";
import { defineOperationType } from "./define.ts";
import { walletPlacement } from "./placement.ts";

/** A payout: money leaves the system from the caller's wallet (to the currency's funding account). */
export const payout = defineOperationType({
  type: "payout",
  path: "/payouts",
  body: oneWalletBody(),
  docs: {
    operationId: "createPayout",
    tag: "Operations",
    summary: "Pay money out of a wallet",
    description:
      "Money leaves the system (a withdrawal to the outside world): the client's own wallet is debited and the currency's funding account credited, asynchronously. The wallet's available balance (its balance less its active holds) is checked when the payout is applied (`insufficient_funds`).",
    notFound: "wallet_not_found",
  },
  ledger: { posts: true, funding: "credit", refundable: false },
  // Applied in the wallet's partition, whose funding account it credits.
  place: async (request) => walletPlacement(request.amount, request.walletId, null),
});
