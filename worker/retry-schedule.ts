/**
 * Webhook retry arithmetic (WEBHOOK_RETRY_SCHEDULE). Pure: randomness is passed in.
 *
 * A schedule of n delays (seconds) allows n + 1 attempts: the first at once, the k-th retry
 * `delays[k-1]` seconds after the k-th failed attempt, plus jitter so that deliveries that
 * failed together (an endpoint that was down) do not all come back in the same instant.
 */

/** Jitter is at most this fraction of the delay … */
const JITTER_FRACTION = 0.1;
/** … and at most this many ms. */
const JITTER_CAP_MS = 60_000;

/**
 * Delay before the next attempt, ms, after `failedAttempts` attempts (1 or more) have failed;
 * null when that was the last attempt allowed and the delivery is `failed`. `random` returns a
 * number in [0, 1), as Math.random does.
 */
export function nextRetryDelayMs(
  schedule: readonly number[],
  failedAttempts: number,
  random: () => number = Math.random,
): number | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) {
    throw new RangeError(`failedAttempts must be a positive integer, got ${failedAttempts}`);
  }
  const seconds = schedule[failedAttempts - 1];
  if (seconds === undefined) return null;
  const baseMs = seconds * 1_000;
  const jitterMs = Math.floor(random() * Math.min(baseMs * JITTER_FRACTION, JITTER_CAP_MS));
  return baseMs + jitterMs;
}

/** Most attempts a delivery gets under `schedule`. */
export const maxAttempts = (schedule: readonly number[]): number => schedule.length + 1;

/** Margin of a claim's lease beyond the attempt timeout, ms: time to sign, connect and record the result. */
export const LEASE_MARGIN_MS = 5_000;

/**
 * How long a sender's claim on a delivery lasts, ms: the attempt's timeout plus a margin. A
 * sender that crashed mid-attempt leaves the delivery to be claimed again when it ends.
 */
export const leaseMs = (timeoutMs: number): number => timeoutMs + LEASE_MARGIN_MS;
