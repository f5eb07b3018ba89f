/** Reads the values of many keys with one statement; keys it does not return have no value. */
export type LoadMany<K, V> = (keys: K[]) => Promise<Map<string, V>>;

interface Waiting<K, V> {
  key: K;
  callers: { resolve: (value: V | undefined) => void; reject: (err: unknown) => void }[];
}

/**
 * Coalesces look-ups: every key asked for while no statement is in flight, or while the
 * previous ones run, is read with the next statement (up to `chunk` keys each, at most
 * `maxInFlight` statements at once). A lone look-up waits only for the end of its event-loop
 * turn; under load the statements grow instead of multiplying, so a flood of look-ups costs a
 * few round trips, not one per request, and cannot take every pooled connection.
 */
export class CoalescingLoader<K, V> {
  private readonly loadMany: LoadMany<K, V>;
  private readonly scope: (key: K) => string;
  private readonly chunk: number;
  private readonly maxInFlight: number;
  private waiting = new Map<string, Waiting<K, V>>();
  private inFlight = 0;
  private scheduled = false;

  constructor(opts: {
    loadMany: LoadMany<K, V>;
    scope: (key: K) => string;
    chunk?: number;
    maxInFlight?: number;
  }) {
    this.loadMany = opts.loadMany;
    this.scope = opts.scope;
    this.chunk = opts.chunk ?? 1_000;
    this.maxInFlight = opts.maxInFlight ?? 1;
  }

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const s = this.scope(key);
      const w = this.waiting.get(s);
      if (w) w.callers.push({ resolve, reject });
      else this.waiting.set(s, { key, callers: [{ resolve, reject }] });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = new Map<string, Waiting<K, V>>();
      for (const [s, w] of this.waiting) {
        if (batch.size >= this.chunk) break;
        batch.set(s, w);
      }
      for (const s of batch.keys()) this.waiting.delete(s);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async run(batch: Map<string, Waiting<K, V>>): Promise<void> {
    try {
      const found = await this.loadMany([...batch.values()].map((w) => w.key));
      for (const [s, w] of batch) for (const c of w.callers) c.resolve(found.get(s));
    } catch (err) {
      for (const w of batch.values()) for (const c of w.callers) c.reject(err);
    }
  }
}
