import { eq } from "drizzle-orm";
import type { Db } from "./client.ts";
import { type Client, clients, type NewClient } from "./schema/index.ts";

export async function insertClient(db: Db, row: NewClient): Promise<Client> {
  const [created] = await db.insert(clients).values(row).returning();
  if (!created) throw new Error("insert returned no row");
  return created;
}

/** The client whose API key hashes to `apiKeyHash` (hex SHA-256), if any. */
export async function findClientByKeyHash(db: Db, apiKeyHash: string): Promise<Client | undefined> {
  const rows = await db.select().from(clients).where(eq(clients.apiKeyHash, apiKeyHash)).limit(1);
  return rows[0];
}
