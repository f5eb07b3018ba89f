import { setTimeout as sleep } from "node:timers/promises";

export interface Backoff {
  /** Pause after the first failure, ms; it doubles with each failure after it. */
  firstMs: number;
  /** Longest pause, ms. */
  maxMs: number;
  /** Pauses are drawn from [(1 - jitter) × pause, pause]: 0 for none, 1 for full jitter. */
  jitter?: number;
}

/** The pause after the `failures`-th failure in a row (1-based), ms: capped exponential, with jitter. */
export function backoffMs(failures: number, b: Backoff): number {
  const pause = Math.min(b.maxMs, b.firstMs * 2 ** Math.max(0, failures - 1));
  return pause * (1 - (b.jitter ?? 0) * Math.random());
}

/**
 * Runs `fn` until it succeeds. After a failure, `again(err, failures)` decides: false rethrows
 * the error, true (or a number of ms, the most to pause) pauses by {@link backoffMs} and tries
 * again. The one retry loop of the code: batches, transactions, webhook records, lost inserts.
 */
export async function retrying<T>(
  fn: () => Promise<T>,
  b: Backoff,
  again: (err: unknown, failures: number) => boolean | number,
): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await fn();
    } catch (err) {
      const verdict = again(err, failures);
      if (verdict === false) throw err;
      const pause = backoffMs(failures, b);
      await sleep(typeof verdict === "number" ? Math.min(pause, Math.max(0, verdict)) : pause);
    }
  }
}
