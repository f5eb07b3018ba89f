import type { Database } from "../../shared/db/client.ts";

/** What the accept path needs of a wallet. None of it ever changes, so it is cached per process. */
export interface WalletFacts {
  id: string;
  kind: "client" | "funding";
  clientId: string | null;
  currency: string;
  partition: number;
}

/** Wallets remembered per process; about 150 bytes each, so 30 MB at most. */
const CACHE_LIMIT = 200_000;
/** Most ids in one look-up statement. */
const LOAD_LIMIT = 1_000;

interface Waiting {
  resolve: (facts: WalletFacts | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Wallet facts by id, read from Postgres once per wallet and process. Unknown ids are not
 * cached. Misses that arrive in the same event-loop turn are read with one statement (a
 * million-wallet workload misses on most requests), and a full cache forgets its oldest entry
 * rather than everything at once.
 */
export class WalletFactsCache {
  private readonly facts = new Map<string, WalletFacts>();
  private readonly db: Database;
  private misses = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(db: Database) {
    this.db = db;
  }

  remember(f: WalletFacts): void {
    if (this.facts.size >= CACHE_LIMIT && !this.facts.has(f.id)) {
      const oldest = this.facts.keys().next();
      if (!oldest.done) this.facts.delete(oldest.value);
    }
    this.facts.set(f.id, {
      id: f.id,
      kind: f.kind,
      clientId: f.clientId,
      currency: f.currency,
      partition: f.partition,
    });
  }

  get(id: string): Promise<WalletFacts | undefined> {
    const cached = this.facts.get(id);
    if (cached) return Promise.resolve(cached);
    return new Promise((resolve, reject) => {
      const waiting = this.misses.get(id);
      if (waiting) waiting.push({ resolve, reject });
      else this.misses.set(id, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.load());
      }
    });
  }

  /** Reads every id missed so far, up to {@link LOAD_LIMIT} a statement. */
  private async load(): Promise<void> {
    this.scheduled = false;
    const batch = this.misses;
    this.misses = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += LOAD_LIMIT) {
      const chunk = ids.slice(i, i + LOAD_LIMIT);
      try {
        const r = await this.db.$client.query<{
          id: string;
          kind: "client" | "funding";
          client_id: string | null;
          currency: string;
          partition: number;
        }>({
          name: "wallets.facts-by-ids",
          text: "SELECT id, kind, client_id, currency, partition FROM wallets WHERE id = ANY($1::uuid[])",
          values: [chunk],
        });
        const found = new Map(
          r.rows.map((w) => [
            w.id,
            { id: w.id, kind: w.kind, clientId: w.client_id, currency: w.currency, partition: w.partition },
          ]),
        );
        for (const id of chunk) {
          const f = found.get(id);
          if (f) this.remember(f);
          for (const w of batch.get(id) ?? []) w.resolve(f);
        }
      } catch (err) {
        for (const id of chunk) for (const w of batch.get(id) ?? []) w.reject(err);
      }
    }
  }
}
