import { BillingConnectionError, BillingError } from "./errors.ts";
import {
  backoffMs,
  type Repeatable,
  type RetrySettings,
  retriesConnectionError,
  retriesStatus,
  retryAfterMs,
} from "./retry.ts";

export interface BillingOptions {
  /** A client's API key (`sk_…`), or the operator's token for `clients.create`. */
  apiKey: string;
  /** Where the api answers; default http://localhost:3000 (`npm run up`, `docker compose up`). */
  baseUrl?: string;
  /** Retries after a first failed attempt (connection error, 429, 503); default 3, 0 for none. */
  maxRetries?: number;
  /** A `Retry-After` longer than this is not waited for (the error is thrown), ms; default 30 s. */
  maxRetryDelayMs?: number;
  /** Time one attempt may take before it counts as a connection error, ms; default 30 s (long polls add their wait). */
  timeoutMs?: number;
  /** The fetch to use; default the global one (Node 20+, browsers, Deno, Bun). */
  fetch?: typeof fetch;
}

/** Per call: retries and timeout as for {@link BillingOptions}. */
export interface CallOptions {
  maxRetries?: number;
  timeoutMs?: number;
}

export interface RequestSpec {
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Sent as the Idempotency-Key header, the same on every attempt. */
  idempotencyKey?: string;
  repeatable: Repeatable;
  /** Added to the attempt's timeout: a long poll's own wait, ms. */
  extraTimeoutMs?: number;
  options?: CallOptions;
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

const DEFAULTS = {
  baseUrl: "http://localhost:3000",
  maxRetries: 3,
  maxRetryDelayMs: 30_000,
  timeoutMs: 30_000,
};

/** HTTP to the API: JSON in and out, authentication, retries (./retry.ts) and typed errors. */
export class Transport {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #retry: RetrySettings;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: BillingOptions) {
    if (!options.apiKey) throw new TypeError("Billing: apiKey is required");
    this.#apiKey = options.apiKey;
    this.#baseUrl = (options.baseUrl ?? DEFAULTS.baseUrl).replace(/\/+$/, "");
    this.#retry = {
      maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
    };
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * One call: attempts until an answer is final or the retries are spent. Resolves with a 2xx
   * answer; rejects with a {@link BillingError} (an error answer) or a
   * {@link BillingConnectionError} (no answer).
   */
  async request<T>(spec: RequestSpec): Promise<Reply<T>> {
    const url = this.#url(spec.path, spec.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: "application/json",
    };
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    if (spec.idempotencyKey !== undefined) headers["idempotency-key"] = spec.idempotencyKey;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const maxRetries = spec.options?.maxRetries ?? this.#retry.maxRetries;
    const timeoutMs = (spec.options?.timeoutMs ?? this.#timeoutMs) + (spec.extraTimeoutMs ?? 0);

    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.#fetch(url, {
          method: spec.method,
          headers,
          ...(body === undefined ? {} : { body }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        if (attempt < maxRetries && retriesConnectionError(err, spec.repeatable)) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new BillingConnectionError(
          `${spec.method} ${spec.path}: no answer from ${this.#baseUrl} (${describe(err)})`,
          attempt + 1,
          err,
        );
      }
      if (res.ok) {
        const text = await res.text();
        return {
          status: res.status,
          headers: res.headers,
          body: (text === "" ? undefined : JSON.parse(text)) as T,
        };
      }
      const error = await BillingError.from(res, attempt + 1);
      if (attempt < maxRetries && retriesStatus(res.status, spec.repeatable)) {
        const wait = retryAfterMs(res.headers.get("retry-after")) ?? backoffMs(attempt);
        if (wait <= this.#retry.maxRetryDelayMs) {
          await sleep(wait);
          continue;
        }
      }
      throw error;
    }
  }

  #url(path: string, query: RequestSpec["query"]): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const search = params.toString();
    return `${this.#baseUrl}${path}${search ? `?${search}` : ""}`;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
