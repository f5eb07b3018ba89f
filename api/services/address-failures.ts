/**
 * Requests with keys this process does not know, per client address, in this process's memory,
 * in fixed windows: once an address has sent `limit` of them in a window, its further unknown
 * keys are refused without a database read until the window ends. Bounded: at most `maxAddresses` are tracked
 * (the oldest window is forgotten first), so a flood from many addresses costs bounded memory.
 */
export class AddressFailures {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(opts: { limit: number; windowMs: number; maxAddresses?: number }) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
  }

  /** Seconds until `address` may try an unknown key again, or 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const w = this.windows.get(address);
    if (!w || w.endsAt <= now || w.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
  }

  /** Counts one request of `address` with a key this process did not know. */
  fail(address: string, now = Date.now()): void {
    let w = this.windows.get(address);
    if (!w || w.endsAt <= now) {
      this.windows.delete(address);
      w = { failures: 0, endsAt: now + this.windowMs };
      this.windows.set(address, w);
      if (this.windows.size > this.maxAddresses) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    w.failures++;
  }
}
