import { OPERATION_CATALOG } from "../../shared/operation-types/catalog.ts";
import { clientSecurity, idParam, postErrors, problems } from "./common-docs.ts";
import { ACCEPT_ORDER, accepted, idempotencyKey, json } from "./money-route-docs.ts";
import type { RouteDocs } from "./route-docs.ts";

const NOT_FOUND = {
  wallet_not_found: problems.walletNotFound,
  hold_not_found: problems.holdNotFound,
  operation_not_found: problems.operationNotFound,
} as const;

/** The POST of every operation type, documented from its catalog entry (shared/operation-types/). */
export const operationRouteDocs: RouteDocs = Object.fromEntries(
  OPERATION_CATALOG.map((t) => [
    `POST /v1${t.path}`,
    {
      operationId: t.docs.operationId,
      tags: [t.docs.tag],
      summary: t.docs.summary,
      description: `${t.docs.description} ${ACCEPT_ORDER}`,
      security: clientSecurity,
      requestParams: {
        header: idempotencyKey,
        ...(t.pathId ? { path: idParam(t.docs.pathIdDescription ?? "") } : {}),
      },
      requestBody: json(t.body),
      responses: {
        "202": accepted,
        "404": NOT_FOUND[t.docs.notFound],
        "422": problems.unprocessable,
        ...postErrors,
      },
    },
  ]),
);
