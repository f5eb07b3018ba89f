import type { NextFunction, Request, Response } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "../../shared/errors.ts";
import { errorSummary } from "../../shared/log-safe.ts";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";

export interface RateLimitOptions {
  redis: Redis;
  /** Key prefix: the deployment's QUEUE_PREFIX, so that deployments sharing a Redis do not mix. */
  prefix: string;
  /** Requests per window per client; 0 turns the limiter off. */
  requests: number;
  windowSeconds: number;
  metrics: Pick<ApiMetrics, "refused">;
  log: Logger;
}

/** The policy's name in the RateLimit fields. */
const POLICY = "per-client";
/** After a Redis error the limiter stands aside this long, ms, rather than delay every request. */
const OPEN_AFTER_ERROR_MS = 5_000;

/**
 * Per-client rate limit, shared by every api process: a fixed window counted in Redis (one
 * atomic Lua INCR + TTL per request, rate-limiter-flexible's RateLimiterRedis); a client over the
 * limit is then refused from memory until its window ends, without asking Redis again. Runs
 * after authentication (the key is the client id, or "operator").
 *
 * Answers carry the RateLimit fields of draft-ietf-httpapi-ratelimit-headers-10:
 * `RateLimit-Policy: "per-client";q=<requests>;w=<window s>` and
 * `RateLimit: "per-client";r=<remaining>;t=<s until the window ends>`; a refusal is 429
 * `rate_limited` with `Retry-After`. The money path does not depend on Redis: when Redis does not
 * answer, the limiter fails open (no headers) for a few seconds and logs once.
 */
export function rateLimit(opts: RateLimitOptions) {
  if (opts.requests === 0) {
    return (_req: Request, _res: Response, next: NextFunction): void => next();
  }
  const limiter = new RateLimiterRedis({
    storeClient: opts.redis,
    keyPrefix: `${opts.prefix}:ratelimit`,
    points: opts.requests,
    duration: opts.windowSeconds,
    inMemoryBlockOnConsumed: opts.requests + 1,
    // Fail at once when the connection is down instead of queueing the command.
    rejectIfRedisNotReady: true,
  });
  const policy = `"${POLICY}";q=${opts.requests};w=${opts.windowSeconds}`;
  let openUntil = 0;

  const setFields = (res: Response, r: RateLimiterRes): number => {
    const seconds = Math.max(1, Math.ceil(r.msBeforeNext / 1000));
    res.setHeader("RateLimit-Policy", policy);
    res.setHeader("RateLimit", `"${POLICY}";r=${r.remainingPoints};t=${seconds}`);
    return seconds;
  };

  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (Date.now() < openUntil) return next();
    const p = res.locals.principal;
    const key = p?.kind === "client" ? p.clientId : "operator";
    let allowed: RateLimiterRes;
    try {
      allowed = await limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        openUntil = Date.now() + OPEN_AFTER_ERROR_MS;
        opts.log.warn({ err: errorSummary(err) }, "rate limiter unavailable; letting requests through");
        return next();
      }
      const seconds = setFields(res, err);
      opts.metrics.refused("rate_limited");
      throw new ApiError(
        "rate_limited",
        `Too many requests: at most ${opts.requests} per ${opts.windowSeconds} s. Retry after ${seconds} s.`,
        { retryAfter: seconds },
      );
    }
    setFields(res, allowed);
    next();
  };
}
