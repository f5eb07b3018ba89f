import type { RequestHandler, Response, Router } from "express";
import type { Database } from "../../shared/db/client.ts";
import {
  findClientOperation,
  listClientOperations,
  type OperationWithHold,
} from "../../shared/db/operation-repo.ts";
import { ApiError } from "../../shared/errors.ts";
import { idempotencyKeySchema, idSchema } from "../../shared/http/fields.ts";
import { operationResource } from "../../shared/http/resources.ts";
import { getOperationQuery, listOperationsQuery } from "../../shared/http/schemas.ts";
import { isUuid } from "../../shared/ids.ts";
import type { OperationType } from "../../shared/operation-types/catalog.ts";
import type { CompletionWaiters } from "../completion-waiters.ts";
import { clientIdOf } from "../middleware/auth.ts";
import { mountedRouter } from "../middleware/request-context.ts";
import { parseOperationRequest } from "../operation-request.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { type AcceptDeps, type Accepted, acceptOperation } from "../services/accept-operation.ts";
import { ownWallet } from "../services/own-wallet.ts";
import { validate } from "../validate.ts";

interface OperationsDeps extends AcceptDeps {
  db: Database;
  waiters: CompletionWaiters;
}

function idempotencyKey(header: string | undefined): string {
  if (header === undefined) {
    throw new ApiError(
      "idempotency_key_required",
      "Send an Idempotency-Key header (1..255 printable ASCII).",
    );
  }
  return validate(idempotencyKeySchema, header, "header.Idempotency-Key");
}

function sendAccepted(res: Response, { operation, replayed, hold }: Accepted): void {
  res.status(202).location(`/v1/operations/${operation.id}`);
  if (replayed) res.setHeader("Idempotent-Replayed", "true");
  // A replay answers with the current state: a hold's too, once it succeeded.
  res.json(operationResource(operation, hold ?? null));
}

/**
 * The POST of an operation type (its catalog entry's path: `/v1/top-ups`, `/v1/holds/:id/capture`,
 * `/v1/refunds`, …): accepted durably, applied asynchronously (202).
 */
export function acceptHandler(deps: AcceptDeps, type: OperationType): RequestHandler {
  return async (req, res) => {
    const clientId = clientIdOf(res);
    // The key header before the body: docs/api.md checks it before fromWalletId == toWalletId, which
    // is part of the transfer schema.
    const key = idempotencyKey(req.get("idempotency-key"));
    const pathId = String(req.params.id ?? "").toLowerCase();
    const request = parseOperationRequest(type, req.body, "body", pathId);
    sendAccepted(res, await acceptOperation(deps, clientId, key, request));
  };
}

/** `GET /v1/operations/:id[?wait=N]` and `GET /v1/operations`: status is read from Postgres, never from the queue. */
export function operationsRoute(deps: OperationsDeps): Router {
  const router = mountedRouter();

  router.get("/", async (req, res) => {
    const clientId = clientIdOf(res);
    const q = validate(listOperationsQuery, req.query, "query");
    const list = "operations";
    const beforeId = decodeCursor(list, q.cursor, idSchema);
    if (q.walletId) await ownWallet(deps.db, clientId, q.walletId);
    const { rows, examinedDownTo } = await listClientOperations(deps.db, clientId, {
      limit: q.limit + 1,
      ...(q.walletId ? { walletId: q.walletId } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(beforeId ? { beforeId } : {}),
    });
    res.json(
      toPage(
        list,
        rows,
        q.limit,
        (r) => operationResource(r.operation, r.hold),
        (r) => r.operation.id,
        examinedDownTo,
      ),
    );
  });

  router.get("/:id", async (req, res) => {
    const clientId = clientIdOf(res);
    const { wait } = validate(getOperationQuery, req.query, "query");
    // One spelling: completions are announced with lower-case ids, and the waiter is keyed by it.
    const id = req.params.id.toLowerCase();
    const read = async (): Promise<OperationWithHold> => {
      const found = isUuid(id) ? await findClientOperation(deps.db, clientId, id) : undefined;
      if (!found) throw new ApiError("not_found", "No operation with this id.");
      return found;
    };
    const { operation, hold } =
      wait > 0
        ? await deps.waiters.waitFor(id, wait * 1_000, read, (o) => o.operation.status !== "pending")
        : await read();
    res.json(operationResource(operation, hold));
  });

  return router;
}
