import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { type NewWallet, type Wallet, wallets } from "./schema/index.ts";

/**
 * Creates the currency's external funding accounts, one per partition, if they do not exist yet.
 * One row per partition, not one per currency: a single row would be a global hot lock.
 */
export async function ensureFundingAccounts(db: Db, currency: string, partitions: number): Promise<void> {
  await db.execute(sql`
    INSERT INTO wallets (id, kind, client_id, currency, partition)
    SELECT gen_random_uuid(), 'funding', NULL, ${currency}, p FROM generate_series(0, ${partitions - 1}) AS p
    ON CONFLICT (currency, partition) WHERE kind = 'funding' DO NOTHING`);
}

export async function insertWallet(db: Db, row: NewWallet): Promise<Wallet> {
  const [created] = await db.insert(wallets).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

/** A client wallet by id (funding accounts are never returned). */
export async function findClientWallet(db: Db, id: string): Promise<Wallet | undefined> {
  const rows = await db
    .select()
    .from(wallets)
    .where(and(eq(wallets.id, id), eq(wallets.kind, "client")))
    .limit(1);
  return rows[0];
}

/** A page of a client's wallets, newest first (ids are UUIDv7), strictly before `beforeId`. */
export async function listClientWallets(
  db: Db,
  clientId: string,
  page: { limit: number; beforeId?: string },
): Promise<Wallet[]> {
  return db
    .select()
    .from(wallets)
    .where(and(eq(wallets.clientId, clientId), page.beforeId ? lt(wallets.id, page.beforeId) : undefined))
    .orderBy(desc(wallets.id))
    .limit(page.limit);
}
