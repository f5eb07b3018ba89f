import type { WalletRefusal } from "../db/operation-batch-repo.ts";
import { ApiError } from "../errors.ts";
import { NO_REFERENCES, type Placement } from "./define.ts";

/**
 * Money between two wallets (null: the currency's funding account of the partition), placed by
 * its wallets: the accept insert checks them (the placing wallet, the source or else the
 * destination, must be the caller's; a two-wallet operation's destination any client's, in the
 * same currency) and applies it in the placing wallet's partition, the one whose balance is
 * checked; no hold, original or expiry.
 */
export const walletPlacement = (
  amount: number,
  fromWalletId: string | null,
  toWalletId: string | null,
): Placement => ({
  partition: null,
  currency: null,
  amount: BigInt(amount),
  fromWalletId,
  toWalletId,
  ...NO_REFERENCES,
});

/**
 * The API error of a row the accept insert refused by its wallets: 404 `wallet_not_found`
 * naming the request's field (`walletId` for a one-wallet type), or 422 `currency_mismatch`.
 * The field follows from the row's shape, as the bodies of the four types that place by wallets
 * name them (`oneWalletBody`, `twoWalletBody`); a type with other field names must pass its own.
 */
export function walletRefusalError(
  row: { fromWalletId: string | null; toWalletId: string | null },
  refusal: WalletRefusal,
): ApiError {
  if (refusal === "currency") {
    // Says only that they differ: the destination may be another client's wallet.
    return new ApiError(
      "currency_mismatch",
      "The source and destination wallets hold different currencies; money moves in one currency.",
    );
  }
  const field =
    refusal === "destination"
      ? "toWalletId"
      : row.fromWalletId && row.toWalletId
        ? "fromWalletId"
        : "walletId";
  return new ApiError("wallet_not_found", `No wallet with this id (${field}) is available to this client.`);
}
