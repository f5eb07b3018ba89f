import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "./client.ts";
import { type Entry, entries } from "./schema/index.ts";

/** A page of a wallet's entries in posting order, newest first, strictly before `beforeVersion`. */
export async function listWalletEntries(
  db: Db,
  walletId: string,
  page: { limit: number; beforeVersion?: bigint },
): Promise<Entry[]> {
  return db
    .select()
    .from(entries)
    .where(
      and(
        eq(entries.walletId, walletId),
        page.beforeVersion !== undefined ? lt(entries.walletVersion, page.beforeVersion) : undefined,
      ),
    )
    .orderBy(desc(entries.walletVersion))
    .limit(page.limit);
}
