import { twoWalletBody } from "../http/fields.ts";
import { defineOperationType } from "./define.ts";
import { walletPlacement } from "./placement.ts";

/** A transfer: from one of the caller's wallets to any client's wallet of the same currency. */
export const transfer = defineOperationType({
  type: "transfer",
  path: "/transfers",
  body: twoWalletBody({}),
  docs: {
    operationId: "createTransfer",
    tag: "Operations",
    summary: "Transfer between wallets",
    description:
      "Moves money from one of the client's wallets to any existing wallet of the same currency (another client's too: wallet ids cannot be guessed, but the outcome does reveal whether a destination exists), asynchronously. `fromWalletId == toWalletId` is a 400. Transfers out of a wallet are applied in the order they were accepted; the source's balance is checked then (`insufficient_funds`), and so is the destination's upper bound (`balance_limit_exceeded`). The receiver may refund it (`POST /v1/refunds`).",
    notFound: "wallet_not_found",
  },
  ledger: { posts: true, funding: null, refundable: true },
  place: async (request) => walletPlacement(request.amount, request.fromWalletId, request.toWalletId),
});
