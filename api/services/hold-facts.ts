import type { Queryable } from "../../shared/db/client.ts";
import { type HoldFacts, holdFactsByIds } from "../../shared/db/hold-facts-repo.ts";
import { CoalescingLoader } from "./coalescing-loader.ts";

/**
 * Hold operations by id, for the acceptance of captures and voids: an operation of another type
 * is not a hold (404 `hold_not_found`, like a missing one). Look-ups of one event-loop turn are
 * read with one statement. Not cached: a hold is captured or voided about once.
 */
export function holdFactsLoader(db: Queryable): (id: string) => Promise<HoldFacts | undefined> {
  const loader = new CoalescingLoader<string, HoldFacts>({
    scope: (id) => id,
    loadMany: (ids) => holdFactsByIds(db, ids),
  });
  return (id) => loader.load(id);
}
