/**
 * When to retry a request and how long to wait first. The rules: a connection error is retried
 * when the request can be repeated safely (a GET or DELETE, or a POST carrying an
 * Idempotency-Key), or when the connection was refused (nothing was sent); 429 and 503 are
 * retried after their `Retry-After` (429 on any request: the rate limiter refuses before any
 * work; 503 only when safe to repeat). Other answers are final.
 */

/** How a request may be repeated. */
export type Repeatable =
  /** GET, DELETE, or a POST with an Idempotency-Key: the API does it at most once whatever happens. */
  | "safe"
  /** A POST without a key (a wallet, an endpoint, a client): a repeat after it arrived makes a second one. */
  | "once";

export interface RetrySettings {
  /** Retries after the first attempt; 0 turns retrying off. */
  maxRetries: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown at once, ms. */
  maxRetryDelayMs: number;
}

/** First backoff after a connection error, ms; doubles with each retry up to {@link MAX_BACKOFF_MS}. */
const BASE_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8_000;

/** Exponential backoff with jitter (half fixed, half random), ms, for retry `n` (0-based). */
export function backoffMs(n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** n);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** `Retry-After` (seconds, or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1_000;
  // An HTTP date starts with the day's name ("Thu, 01 Jan 2026 …"); Date.parse alone reads "-1" too.
  if (!/^[A-Za-z]{3},/.test(header.trim())) return undefined;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Whether an answer's status is worth another attempt of a request of this kind. */
export function retriesStatus(status: number, repeatable: Repeatable): boolean {
  return status === 429 || (status === 503 && repeatable === "safe");
}

/** Whether a failed fetch (no answer) is worth another attempt of a request of this kind. */
export function retriesConnectionError(error: unknown, repeatable: Repeatable): boolean {
  return repeatable === "safe" || errorCode(error) === "ECONNREFUSED";
}

/** The system error code of a fetch failure (undici puts it on `cause`, possibly nested). */
function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) e = errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
