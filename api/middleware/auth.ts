import { hash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Database } from "../../shared/db/client.ts";
import { findClientByKeyHash } from "../../shared/db/client-repo.ts";
import { ApiError } from "../../shared/errors.ts";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";
import type { Principal } from "../principal.ts";
import type { AddressFailures } from "../services/address-failures.ts";

/** One-shot hash: no Hash object per request. */
const sha256 = (s: string): Buffer => hash("sha256", s, "buffer");

/** Remembered key digests → client ids. Keys never change owner, so entries never go stale. */
const CACHE_LIMIT = 10_000;
/**
 * Remembered digests of well-formed keys that match no client. A key is made with its client and
 * never changes, so an unknown digest stays unknown: a client retrying with a wrong key costs one
 * read, not one per request.
 */
const UNKNOWN_LIMIT = 10_000;
/** The shape of a client's key (`sk_` + 32 random bytes, base64url): anything else is not looked up. */
const CLIENT_KEY = /^sk_[A-Za-z0-9_-]{43}$/;
const UNAUTHORIZED = "Send a valid API key as `Authorization: Bearer <key>`.";

export interface AuthDeps {
  db: Database;
  adminToken: string;
  /**
   * Keys not known to this process, per address and window (each counted before it is looked
   * up), after which the address's unknown keys get 429 unread ({@link AddressFailures}).
   */
  failures: AddressFailures;
  metrics: Pick<ApiMetrics, "keyLookup" | "refused">;
}

/**
 * Resolves `Authorization: Bearer <key>` to a principal. The operator's token is compared with
 * `timingSafeEqual` on SHA-256 digests; client keys are looked up by their SHA-256 (256 random
 * bits need no slow hash), remembered per process. An unauthenticated flood costs a bounded
 * number of reads: a key of the wrong shape is never looked up, an unknown digest is
 * remembered, and an address past its failure limit gets 429 for unknown keys without a read
 * (keys already known to this process still pass, from memory).
 */
export function authenticator(deps: AuthDeps) {
  const adminDigest = sha256(deps.adminToken);
  const known = new Map<string, string>();
  const unknown = new Set<string>();

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!match?.[1]) throw new ApiError("unauthorized", UNAUTHORIZED);
    const digest = sha256(match[1]);
    if (timingSafeEqual(digest, adminDigest)) {
      res.locals.principal = { kind: "admin" } satisfies Principal;
      return next();
    }
    const hex = digest.toString("hex");
    let clientId = known.get(hex);
    if (!clientId) {
      const address = req.socket.remoteAddress ?? "unknown";
      const wait = deps.failures.blockedFor(address);
      if (wait > 0) {
        deps.metrics.refused("auth_failures");
        throw new ApiError(
          "rate_limited",
          `Too many requests with unknown API keys from this address. Retry after ${wait} s.`,
          { retryAfter: wait },
        );
      }
      // Counted before the read, so that concurrent requests cannot all pass the bound at once.
      deps.failures.fail(address);
      if (!CLIENT_KEY.test(match[1]) || unknown.has(hex)) throw new ApiError("unauthorized", UNAUTHORIZED);
      deps.metrics.keyLookup();
      clientId = (await findClientByKeyHash(deps.db, hex))?.id;
      if (!clientId) {
        if (unknown.size >= UNKNOWN_LIMIT) unknown.clear();
        unknown.add(hex);
        throw new ApiError("unauthorized", UNAUTHORIZED);
      }
      if (known.size >= CACHE_LIMIT) known.clear();
      known.set(hex, clientId);
    }
    res.locals.principal = { kind: "client", clientId } satisfies Principal;
    next();
  };
}

/** The calling client's id; the operator's token gets 403 on client routes. */
export function clientIdOf(res: Response): string {
  const p = res.locals.principal;
  if (p?.kind !== "client") throw new ApiError("forbidden", "This route needs a client's API key.");
  return p.clientId;
}

/** Only the operator may pass. */
export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.principal?.kind !== "admin") {
    throw new ApiError("forbidden", "Only the operator's token may use this route.");
  }
  next();
}
