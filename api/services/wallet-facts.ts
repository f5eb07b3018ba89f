import type { Database } from "../../shared/db/client.ts";
import type { WalletFacts } from "../../shared/operation-types/define.ts";
import { CoalescingLoader } from "./coalescing-loader.ts";
import { GenerationalMap } from "./generational-map.ts";

/** Wallets remembered per process; about 150 bytes each, so 30 MB at most. */
const CACHE_LIMIT = 200_000;

/**
 * Wallet facts by id, read from Postgres once per wallet and process. Unknown ids are not
 * cached. Misses are coalesced (a million-wallet workload misses on most requests): those of one
 * event-loop turn, or that arrive while a read runs, are read with one statement. A full cache
 * forgets its least recently used half ({@link GenerationalMap}) rather than everything at once.
 */
export class WalletFactsCache {
  private readonly facts = new GenerationalMap<string, WalletFacts>(CACHE_LIMIT);
  private readonly misses: CoalescingLoader<string, WalletFacts>;

  constructor(db: Database) {
    this.misses = new CoalescingLoader({
      scope: (id) => id,
      maxInFlight: 2,
      loadMany: async (ids) => {
        const r = await db.$client.query<{
          id: string;
          kind: "client" | "funding";
          client_id: string | null;
          currency: string;
          partition: number;
        }>({
          name: "wallets.facts-by-ids",
          text: "SELECT id, kind, client_id, currency, partition FROM wallets WHERE id = ANY($1::uuid[])",
          values: [ids],
        });
        const found = new Map<string, WalletFacts>();
        for (const w of r.rows) {
          found.set(
            w.id,
            this.keep({
              id: w.id,
              kind: w.kind,
              clientId: w.client_id,
              currency: w.currency,
              partition: w.partition,
            }),
          );
        }
        return found;
      },
    });
  }

  /** Remembers the facts of a wallet just created (only those: `wallet` may be a whole row). */
  remember(wallet: WalletFacts): void {
    this.keep({
      id: wallet.id,
      kind: wallet.kind,
      clientId: wallet.clientId,
      currency: wallet.currency,
      partition: wallet.partition,
    });
  }

  /** Stores `facts` as they are. */
  private keep(facts: WalletFacts): WalletFacts {
    this.facts.set(facts.id, facts);
    return facts;
  }

  get(id: string): Promise<WalletFacts | undefined> {
    const cached = this.facts.get(id);
    return cached ? Promise.resolve(cached) : this.misses.load(id);
  }
}
