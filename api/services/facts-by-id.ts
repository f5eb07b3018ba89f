import type { Queryable } from "../../shared/db/client.ts";
import { type HoldFacts, holdFactsByIds } from "../../shared/db/hold-facts-repo.ts";
import { type OriginalFacts, originalFactsByIds } from "../../shared/db/refund-facts-repo.ts";
import { CoalescingLoader, type LoadMany } from "./coalescing-loader.ts";

/**
 * Rows the acceptance of an operation reads by id, coalesced: the look-ups of one event-loop
 * turn are read with one statement. Not cached: a hold is captured or voided about once, and an
 * original's status changes once, from `pending`, while refunds of it may already be asked for.
 */
function byId<V>(loadMany: LoadMany<string, V>): (id: string) => Promise<V | undefined> {
  const loader = new CoalescingLoader<string, V>({ scope: (id) => id, loadMany });
  return (id) => loader.load(id);
}

/** Hold operations by id, for captures and voids: another type is not a hold (404 `hold_not_found`). */
export const holdFactsLoader = (db: Queryable): ((id: string) => Promise<HoldFacts | undefined>) =>
  byId((ids) => holdFactsByIds(db, ids));

/** The operations refunds name, by id. */
export const originalFactsLoader = (db: Queryable): ((id: string) => Promise<OriginalFacts | undefined>) =>
  byId((ids) => originalFactsByIds(db, ids));
