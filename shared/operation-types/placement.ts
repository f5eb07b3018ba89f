import { ApiError } from "../errors.ts";
import { type Lookups, NO_REFERENCES, type Placement, type WalletFacts } from "./define.ts";

/** The placement checks several types share, in docs/api.md's order. */

const walletNotFound = (field: string) =>
  new ApiError("wallet_not_found", `No wallet with this id (${field}) is available to this client.`);

/** The caller's own client wallet `id`, or 404 `wallet_not_found` naming `field`. */
export async function ownWallet(
  lookups: Lookups,
  clientId: string,
  id: string,
  field: string,
): Promise<WalletFacts> {
  const wallet = await lookups.wallet(id);
  if (wallet?.kind !== "client" || wallet.clientId !== clientId) throw walletNotFound(field);
  return wallet;
}

/**
 * The caller's source wallet and any client's destination wallet of the same currency: 404
 * `wallet_not_found` for either, then 422 `currency_mismatch`.
 */
export async function sourceAndDestination(
  lookups: Lookups,
  clientId: string,
  request: { fromWalletId: string; toWalletId: string },
): Promise<{ from: WalletFacts; to: WalletFacts }> {
  const [from, to] = await Promise.all([
    ownWallet(lookups, clientId, request.fromWalletId, "fromWalletId"),
    lookups.wallet(request.toWalletId),
  ]);
  if (to?.kind !== "client") throw walletNotFound("toWalletId");
  if (from.currency !== to.currency) {
    // Says only that they differ: the destination may be another client's wallet.
    throw new ApiError(
      "currency_mismatch",
      "The source and destination wallets hold different currencies; money moves in one currency.",
    );
  }
  return { from, to };
}

/**
 * Money between two wallets (null: the currency's funding account of the partition), applied in
 * the partition of `debited`, the wallet whose balance is checked; no hold, original or expiry.
 */
export const movePlacement = (
  debited: WalletFacts,
  amount: number,
  fromWalletId: string | null,
  toWalletId: string | null,
): Placement => ({
  partition: debited.partition,
  currency: debited.currency,
  amount: BigInt(amount),
  fromWalletId,
  toWalletId,
  ...NO_REFERENCES,
});
