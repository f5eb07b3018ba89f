import type { Queryable } from "../../shared/db/client.ts";
import { holdFactsByIds } from "../../shared/db/hold-facts-repo.ts";
import { originalFactsByIds } from "../../shared/db/refund-facts-repo.ts";
import type { Lookups } from "../../shared/operation-types/define.ts";
import { CoalescingLoader, type LoadMany } from "./coalescing-loader.ts";

/**
 * What the placement of a request reads (shared/operation-types/define.ts): holds and refunds'
 * originals by id (wallets are checked by the accept insert). Read coalesced (the look-ups of
 * one event-loop turn in one statement) and not cached: a hold is captured or
 * voided about once, and an original's status changes once, from `pending`, while refunds of it
 * may already be asked for. Built once per api process.
 */
export function acceptLookups(db: Queryable): Lookups {
  return {
    hold: byId((ids) => holdFactsByIds(db, ids)),
    original: byId((ids) => originalFactsByIds(db, ids)),
  };
}

function byId<V>(loadMany: LoadMany<string, V>): (id: string) => Promise<V | undefined> {
  const loader = new CoalescingLoader<string, V>({ scope: (id) => id, loadMany });
  return (id) => loader.load(id);
}
