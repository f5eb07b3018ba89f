import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { ApiError } from "../../shared/errors.ts";
import { errorSummary } from "../../shared/log-safe.ts";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";
import type { RedisClient } from "../../shared/redis/connection.ts";

export interface RateLimitOptions {
  redis: RedisClient;
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
 * Per-client rate limit, shared by every api process: a fixed window counted in Redis (an
 * atomic Lua INCRBY + TTL, rate-limiter-flexible's RateLimiterRedis). The requests of one client
 * that arrive in the same event-loop turn are counted with one call for all of them and shared
 * out in arrival order ({@link shareOut}), exactly as if each had asked alone; a client over the
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

  const setFields = (res: Response, r: Share): number => {
    const seconds = Math.max(1, Math.ceil(r.msBeforeNext / 1000));
    res.setHeader("RateLimit-Policy", policy);
    res.setHeader("RateLimit", `"${POLICY}";r=${r.remainingPoints};t=${seconds}`);
    return seconds;
  };

  const consume = coalescedConsume(limiter, opts.requests);
  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (Date.now() < openUntil) return next();
    const p = res.locals.principal;
    const key = p?.kind === "client" ? p.clientId : "operator";
    let share: Share;
    try {
      share = await consume(key);
    } catch (err) {
      openUntil = Date.now() + OPEN_AFTER_ERROR_MS;
      opts.log.warn({ err: errorSummary(err) }, "rate limiter unavailable; letting requests through");
      return next();
    }
    const refuse = (r: Share): void => {
      const seconds = setFields(res, r);
      if (r.allowed) return;
      opts.metrics.refused("rate_limited");
      throw new ApiError(
        "rate_limited",
        `Too many requests: at most ${opts.requests} per ${opts.windowSeconds} s. Retry after ${seconds} s.`,
        { retryAfter: seconds },
      );
    };
    refuse(share);
    // A bulk submission counts one point per item: the route charges the rest once it knows them.
    const charge: ChargeMore = async (points) => {
      if (points <= 0) return;
      let more: Share;
      try {
        more = await consumeNow(limiter, key, points);
      } catch (err) {
        opts.log.warn({ err: errorSummary(err) }, "rate limiter unavailable; letting requests through");
        return;
      }
      refuse(more);
    };
    res.locals.chargeRateLimit = charge;
    next();
  };
}

/** Counts `points` more against the caller's window; throws 429 `rate_limited` when past it. */
export type ChargeMore = (points: number) => Promise<void>;

/** One consume of `points` at once, as one share (allowed only if all of them fit). */
async function consumeNow(limiter: RateLimiterRedis, key: string, points: number): Promise<Share> {
  let r: RateLimiterRes;
  try {
    r = await limiter.consume(key, points);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    r = err;
  }
  return {
    allowed: r.remainingPoints >= 0 && r.consumedPoints <= limiter.points,
    remainingPoints: Math.max(0, r.remainingPoints),
    msBeforeNext: r.msBeforeNext,
  };
}

/** One request's part of a window count. */
export interface Share {
  allowed: boolean;
  remainingPoints: number;
  msBeforeNext: number;
}

/**
 * Shares out the answer to one consume of `n` points (the `n` requests of one turn, in arrival
 * order) as `n` answers of one point each: the i-th request is the (before + i + 1)-th of the
 * window. `consumedPoints` below `n` means the limiter refused from memory without counting:
 * every request is refused.
 */
export function shareOut(
  points: number,
  n: number,
  r: Pick<RateLimiterRes, "consumedPoints" | "msBeforeNext">,
): Share[] {
  const before = r.consumedPoints >= n ? r.consumedPoints - n : points;
  return Array.from({ length: n }, (_, i) => {
    const count = before + i + 1;
    return {
      allowed: count <= points,
      remainingPoints: Math.max(0, points - count),
      msBeforeNext: r.msBeforeNext,
    };
  });
}

interface Waiter {
  resolve: (s: Share) => void;
  reject: (err: unknown) => void;
}

/** Consumes one point per call, one limiter call per key and event-loop turn. */
function coalescedConsume(limiter: RateLimiterRedis, points: number): (key: string) => Promise<Share> {
  let waiting = new Map<string, Waiter[]>();
  const flush = (): void => {
    const turn = waiting;
    waiting = new Map();
    for (const [key, ws] of turn) {
      const settle = (r: RateLimiterRes): void => {
        const shares = shareOut(points, ws.length, r);
        for (const [i, w] of ws.entries()) w.resolve(shares[i] as Share);
      };
      limiter.consume(key, ws.length).then(settle, (err: unknown) => {
        if (err instanceof RateLimiterRes) settle(err);
        else for (const w of ws) w.reject(err);
      });
    }
  };
  return (key) =>
    new Promise((resolve, reject) => {
      if (waiting.size === 0) setImmediate(flush);
      const ws = waiting.get(key);
      if (ws) ws.push({ resolve, reject });
      else waiting.set(key, [{ resolve, reject }]);
    });
}
