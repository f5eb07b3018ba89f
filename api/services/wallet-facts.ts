import { eq } from "drizzle-orm";
import type { Database } from "../../shared/db/client.ts";
import { wallets } from "../../shared/db/schema/index.ts";

/** What the accept path needs of a wallet. None of it ever changes, so it is cached per process. */
export interface WalletFacts {
  id: string;
  kind: "client" | "funding";
  clientId: string | null;
  currency: string;
  partition: number;
}

const CACHE_LIMIT = 200_000;

/** Wallet facts by id, read from Postgres once per wallet and process. Unknown ids are not cached. */
export class WalletFactsCache {
  private readonly facts = new Map<string, WalletFacts>();
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  remember(f: WalletFacts): void {
    if (this.facts.size >= CACHE_LIMIT) this.facts.clear();
    this.facts.set(f.id, f);
  }

  async get(id: string): Promise<WalletFacts | undefined> {
    const cached = this.facts.get(id);
    if (cached) return cached;
    const [row] = await this.db
      .select({
        id: wallets.id,
        kind: wallets.kind,
        clientId: wallets.clientId,
        currency: wallets.currency,
        partition: wallets.partition,
      })
      .from(wallets)
      .where(eq(wallets.id, id))
      .limit(1);
    if (row) this.remember(row);
    return row;
  }
}
