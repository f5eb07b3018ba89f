import type { Database } from "../../shared/db/client.ts";
import type { Wallet } from "../../shared/db/schema/index.ts";
import { findClientWallet } from "../../shared/db/wallet-repo.ts";
import { ApiError } from "../../shared/errors.ts";
import { isUuid } from "../../shared/ids.ts";

/** The caller's own wallet, or 404 `wallet_not_found` (also for another client's wallet). */
export async function ownWallet(db: Database, clientId: string, id: string): Promise<Wallet> {
  const wallet = isUuid(id) ? await findClientWallet(db, id) : undefined;
  if (!wallet || wallet.clientId !== clientId) {
    throw new ApiError("wallet_not_found", "No wallet with this id is available to this client.");
  }
  return wallet;
}
