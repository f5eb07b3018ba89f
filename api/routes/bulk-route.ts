import type { RequestHandler } from "express";
import { z } from "zod";
import { ApiError, problemBody } from "../../shared/errors.ts";
import { operationResource } from "../../shared/http/resources.ts";
import { bulkEnvelope } from "../../shared/http/schemas.ts";
import { bulkItemHead, operationType } from "../../shared/operation-types/catalog.ts";
import { clientIdOf } from "../middleware/auth.ts";
import type { ChargeMore } from "../middleware/rate-limit.ts";
import { parseOperationRequest } from "../operation-request.ts";
import { type AcceptDeps, acceptMany, type BulkItem } from "../services/accept-operation.ts";
import { validate } from "../validate.ts";

/**
 * `POST /v1/operations/bulk` (docs/api.md, "Bulk submission"): up to 1,000 operations in one request,
 * each accepted or refused on its own with the single routes' checks and codes, through the same
 * accept path (one insert for the whole bulk), answered in item order. The request is refused
 * as a whole only for the envelope's own reasons: 400 for a body that is not
 * `{ "operations": [1..1000 objects] }`, 429 when its n items do not fit the rate limit, 503
 * when overloaded; nothing is created then.
 */
export function bulkHandler(deps: AcceptDeps): RequestHandler {
  return async (req, res) => {
    const clientId = clientIdOf(res);
    const { operations } = validate(bulkEnvelope, req.body, "body", false);
    // The raw items (the envelope's parse keeps no member named __proto__, which an item refuses).
    const raw = (req.body as { operations: Record<string, unknown>[] }).operations;
    const charge = res.locals.chargeRateLimit as ChargeMore | undefined;
    await charge?.(operations.length - 1);

    const results = await acceptMany(
      deps,
      clientId,
      raw.map((item, i) => bulkItem(item, `body.operations.${i}`)),
    );
    const requestId = res.locals.requestId as string;
    const data = results.map((r) =>
      r instanceof ApiError
        ? { status: r.status, error: problemBody(r, requestId) }
        : { status: 202, replayed: r.replayed, operation: operationResource(r.operation, r.hold ?? null) },
    );
    res.status(200).json({ data });
  };
}

/** A path's `:id`: any string (one that names nothing is the type's 404, as on the single route). */
const PATH_ID = z.string();

/**
 * An item as the single route would see it: its `type` picks the body schema, its
 * `idempotencyKey` is the header's (checked before the body, as the header is), the field its
 * type's path id fills (a capture's or void's `holdId`) is the path's `:id`.
 */
export function bulkItem(item: Record<string, unknown>, where: string): BulkItem {
  try {
    const { type, idempotencyKey } = validate(
      bulkItemHead,
      { type: item.type, idempotencyKey: item.idempotencyKey },
      where,
    );
    const { pathId } = operationType(type);
    if (idempotencyKey === undefined) {
      throw new ApiError(
        "idempotency_key_required",
        "Give each item an idempotencyKey (1..255 printable ASCII), as the Idempotency-Key header of a single request.",
      );
    }
    const { type: _type, idempotencyKey: _key, ...rest } = item;
    let id = "";
    if (pathId) {
      if (item[pathId] === undefined) {
        throw new ApiError("validation_error", `The request ${where} is invalid.`, {
          errors: [{ path: `${where}.${pathId}`, message: `a ${type} names its ${pathId}` }],
        });
      }
      // As the path's `:id`: any string, resolved (or not found) by the type's placement.
      id = validate(PATH_ID, item[pathId], `${where}.${pathId}`).toLowerCase();
      delete rest[pathId];
    }
    return { idempotencyKey, request: parseOperationRequest(type, rest, where, id) };
  } catch (err) {
    if (err instanceof ApiError) return { refused: err };
    throw err;
  }
}
