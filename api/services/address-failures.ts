import { GenerationalMap } from "./generational-map.ts";

/**
 * Authentication failures per client address, in this process's memory, in fixed windows: keys
 * that match no client (and wrong operator tokens), and key lookups still in flight. Once an
 * address has `limit` failures in a window, every key this process does not know is refused
 * without a database read until the window ends; while its failures and lookups in flight
 * together reach `limit`, a new lookup is refused for a second. So a flood costs at most `limit`
 * reads per address and window, and valid keys never count once found. Bounded: at most
 * `maxAddresses` windows are tracked (the least recently used half is forgotten at once:
 * {@link GenerationalMap}), so a flood from many addresses costs bounded memory and time.
 */
export class AddressFailures {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly windows: GenerationalMap<string, { failures: number; endsAt: number }>;
  /** Lookups started and not yet ended, per address (an entry only while there is one). */
  private readonly lookups = new Map<string, number>();

  constructor(opts: { limit: number; windowMs: number; maxAddresses?: number }) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.windows = new GenerationalMap(opts.maxAddresses ?? 10_000);
  }

  /**
   * Seconds until `address` may try a key this process does not know again, or 0 when it may
   * now: the rest of the window past `limit` failures, 1 while lookups in flight fill the bound.
   */
  blockedFor(address: string, now = Date.now()): number {
    const w = this.windows.get(address);
    const failures = w && w.endsAt > now ? w.failures : 0;
    if (w && failures >= this.limit) return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
    return failures + (this.lookups.get(address) ?? 0) >= this.limit ? 1 : 0;
  }

  /** A key lookup of `address` starts (after {@link blockedFor} said 0); call the returned function with its result. */
  lookupStarted(address: string): (found: boolean) => void {
    this.lookups.set(address, (this.lookups.get(address) ?? 0) + 1);
    return (found) => {
      const left = (this.lookups.get(address) ?? 1) - 1;
      if (left > 0) this.lookups.set(address, left);
      else this.lookups.delete(address);
      if (!found) this.fail(address);
    };
  }

  /** Counts one failure of `address`: a key that matches nothing, or a wrong operator token. */
  fail(address: string, now = Date.now()): void {
    let w = this.windows.get(address);
    if (!w || w.endsAt <= now) {
      w = { failures: 0, endsAt: now + this.windowMs };
      this.windows.set(address, w);
    }
    w.failures++;
  }
}
