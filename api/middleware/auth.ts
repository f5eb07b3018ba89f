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
   * Keys that match nothing (and wrong operator tokens) and lookups in flight, per address and
   * window, past which the address gets 429 for any key this process does not know, unread
   * ({@link AddressFailures}).
   */
  failures: AddressFailures;
  metrics: Pick<ApiMetrics, "keyLookup" | "refused">;
}

/**
 * Resolves `Authorization: Bearer <key>` to a principal. The operator's token is compared with
 * `timingSafeEqual` on SHA-256 digests; client keys are looked up by their SHA-256 (256 random
 * bits need no slow hash), remembered per process. An unauthenticated flood costs a bounded
 * number of reads: a key of the wrong shape is never looked up, an unknown digest is
 * remembered, and an address past its failure limit gets 429 without a read for any key not
 * known to this process, the operator's token included (keys already known still pass, from
 * memory). Valid keys never count against the bound; behind one shared proxy address a flood
 * of junk keys can still hold uncached clients back for the rest of a window.
 */
export function authenticator(deps: AuthDeps) {
  const adminDigest = sha256(deps.adminToken);
  const known = new Map<string, string>();
  const unknown = new Set<string>();

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get("authorization") ?? "";
    // The scheme is case-insensitive (RFC 9110, section 11.1); the key is not.
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
    if (!match?.[1]) throw new ApiError("unauthorized", UNAUTHORIZED);
    const digest = sha256(match[1]);
    const hex = digest.toString("hex");
    let clientId = known.get(hex);
    if (!clientId) {
      // Past the bound, an address gets 429 for anything but a key this process knows, the
      // operator's token included: a wrong guess of it is a failure like an unknown key, and a
      // blocked address cannot tell a right guess from a wrong one.
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
      if (timingSafeEqual(digest, adminDigest)) {
        res.locals.principal = { kind: "admin" } satisfies Principal;
        return next();
      }
      if (!CLIENT_KEY.test(match[1]) || unknown.has(hex)) {
        deps.failures.fail(address);
        throw new ApiError("unauthorized", UNAUTHORIZED);
      }
      // In flight, the lookup counts against the bound (concurrent requests cannot all pass it at
      // once); once read, only a key that matched nothing stays counted.
      const ended = deps.failures.lookupStarted(address);
      deps.metrics.keyLookup();
      let matchedNothing = false;
      try {
        clientId = (await findClientByKeyHash(deps.db, hex))?.id;
        matchedNothing = clientId === undefined;
      } finally {
        // A lookup that failed (the database away) says nothing about the key: not counted.
        ended(!matchedNothing);
      }
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

/** Only a client may pass (the operator's token gets 403). */
export function requireClient(_req: Request, res: Response, next: NextFunction): void {
  clientIdOf(res);
  next();
}

/** Only the operator may pass. */
export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.principal?.kind !== "admin") {
    throw new ApiError("forbidden", "Only the operator's token may use this route.");
  }
  next();
}
