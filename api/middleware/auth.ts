import { hash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Database } from "../../shared/db/client.ts";
import { findClientByKeyHash } from "../../shared/db/client-repo.ts";
import { ApiError } from "../../shared/errors.ts";
import type { Principal } from "../principal.ts";

/** One-shot hash: no Hash object per request. */
const sha256 = (s: string): Buffer => hash("sha256", s, "buffer");

/** Remembered key digests → client ids. Keys never change owner, so entries never go stale. */
const CACHE_LIMIT = 10_000;

/**
 * Resolves `Authorization: Bearer <key>` to a principal. The operator's token is compared with
 * `timingSafeEqual` on SHA-256 digests; client keys are looked up by their SHA-256 (256 random
 * bits need no slow hash), remembered per process.
 */
export function authenticator(deps: { db: Database; adminToken: string }) {
  const adminDigest = sha256(deps.adminToken);
  const known = new Map<string, string>();

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get("authorization") ?? "";
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!match?.[1])
      throw new ApiError("unauthorized", "Send a valid API key as `Authorization: Bearer <key>`.");
    const digest = sha256(match[1]);
    let principal: Principal | undefined;
    if (timingSafeEqual(digest, adminDigest)) {
      principal = { kind: "admin" };
    } else {
      const hex = digest.toString("hex");
      let clientId = known.get(hex);
      if (!clientId) {
        clientId = (await findClientByKeyHash(deps.db, hex))?.id;
        if (clientId) {
          if (known.size >= CACHE_LIMIT) known.clear();
          known.set(hex, clientId);
        }
      }
      if (clientId) principal = { kind: "client", clientId };
    }
    if (!principal)
      throw new ApiError("unauthorized", "Send a valid API key as `Authorization: Bearer <key>`.");
    res.locals.principal = principal;
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
