import { z } from "zod";
import { idempotencyKeySchema, idSchema } from "../http/fields.ts";
import { capture } from "./capture.ts";
import type { Lookups, OperationTypeDef, Placement, RequestOf } from "./define.ts";
import { hold } from "./hold.ts";
import { payout } from "./payout.ts";
import { refund } from "./refund.ts";
import { topUp } from "./top-up.ts";
import { transfer } from "./transfer.ts";
import { voidHold } from "./void.ts";

/**
 * Every operation type, once (docs/design.md, "Adding an operation type"). The routes, the
 * request union, the bulk items, the OpenAPI operations, the `type` CHECK and the audit's lists
 * are derived from it; test/integration/operation-catalog.test.ts fails when one of them disagrees.
 */
export const OPERATION_CATALOG = [topUp, transfer, payout, hold, capture, voidHold, refund] as const;

type Catalog = (typeof OPERATION_CATALOG)[number];

export type OperationType = Catalog["type"];

/** The types' names, in the catalog's order. */
export const OPERATION_TYPES = OPERATION_CATALOG.map((t) => t.type) as [OperationType, ...OperationType[]];

/** A parsed request of each type: a single route's body (and path id) or a bulk item's, with its `type`. */
export type OperationRequest = Catalog extends infer D
  ? D extends OperationTypeDef<infer T, infer B, infer P>
    ? RequestOf<T, B, P>
    : never
  : never;

const BY_TYPE = new Map<string, OperationTypeDef<OperationType>>(
  OPERATION_CATALOG.map((t) => [t.type, t as unknown as OperationTypeDef<OperationType>]),
);

/** The catalog's entry of `type` (asked per operation by resources, batches and placements). */
export function operationType(type: OperationType): OperationTypeDef<OperationType> {
  const def = BY_TYPE.get(type);
  if (!def) throw new Error(`unknown operation type ${type}`);
  return def;
}

/** Places a request with its own type's entry (define.ts, `place`). */
export function placeRequest(
  request: OperationRequest,
  lookups: Lookups,
  clientId: string,
): Promise<Placement> {
  // The entry found by `request.type` takes exactly the requests of that type.
  return operationType(request.type).place(
    request as RequestOf<OperationType, z.ZodObject, undefined>,
    lookups,
    clientId,
  );
}

/** The types whose ledger facts match `pick`, as a SQL list (`'a', 'b'`) for the audit. */
export const sqlTypeList = (pick: (ledger: OperationTypeDef["ledger"]) => boolean): string =>
  OPERATION_CATALOG.filter((t) => pick(t.ledger))
    .map((t) => `'${t.type}'`)
    .join(", ");

/** What every bulk item carries beside its type's body: the type and its Idempotency-Key. */
export const bulkItemHead = z.object({
  type: z.enum(OPERATION_TYPES),
  idempotencyKey: idempotencyKeySchema.optional(),
});

/**
 * The items of a bulk submission, one per type: the single route's body, its path id as a
 * field, `type` and `idempotencyKey` (documented).
 */
export const bulkItemSchemas = OPERATION_CATALOG.map((t) =>
  (t.body as z.ZodObject).safeExtend({
    type: z.literal(t.type),
    idempotencyKey: idempotencyKeySchema.describe(
      "This item's Idempotency-Key: the header's rules and key space",
    ),
    ...(t.pathId ? { [t.pathId]: idSchema.describe(t.docs.pathIdDescription ?? "") } : {}),
  }),
) as unknown as [z.ZodObject, ...z.ZodObject[]];
