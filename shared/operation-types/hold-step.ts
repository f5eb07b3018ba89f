import { ApiError } from "../errors.ts";
import { isUuid } from "../ids.ts";
import { type Lookups, NO_REFERENCES, type Placement } from "./define.ts";

/**
 * A capture's or void's placement: its hold's wallets and partition (the source's, so that a
 * hold's steps are applied in order with its other debits). The hold must be the caller's (404
 * otherwise, as for a missing one); a capture moves at most the held amount (422).
 */
export async function holdStep(
  lookups: Lookups,
  clientId: string,
  holdId: string,
  captured?: number,
): Promise<Placement> {
  const hold = isUuid(holdId) ? await lookups.hold(holdId) : undefined;
  if (!hold || hold.clientId !== clientId) {
    throw new ApiError("hold_not_found", "No hold with this id is available to this client.");
  }
  const amount = captured === undefined ? hold.amount : BigInt(captured);
  if (amount > hold.amount) {
    throw new ApiError(
      "amount_exceeds_hold",
      `A capture moves at most the held amount (${hold.amount}); the rest of the hold is released.`,
    );
  }
  return {
    partition: hold.partition,
    currency: hold.currency,
    amount,
    fromWalletId: hold.fromWalletId,
    toWalletId: hold.toWalletId,
    ...NO_REFERENCES,
    holdId: hold.id,
  };
}
