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

/**
 * A wallet's posted balance and version as of an instant: the newest entry created before
 * `before` (one probe of `(wallet_id, created_at, wallet_version)`); 0 and 0 before the first.
 */
export async function balanceBefore(
  db: Db,
  walletId: string,
  before: Date,
): Promise<{ balance: bigint; version: bigint }> {
  const rows = await db
    .select({ balance: entries.balanceAfter, version: entries.walletVersion })
    .from(entries)
    .where(and(eq(entries.walletId, walletId), lt(entries.createdAt, before)))
    .orderBy(desc(entries.createdAt), desc(entries.walletVersion))
    .limit(1);
  return rows[0] ?? { balance: 0n, version: 0n };
}
