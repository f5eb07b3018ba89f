import { z } from "zod";
import {
  type Entry,
  HOLD_STATUSES,
  type Hold,
  OPERATION_STATUSES,
  OPERATION_TYPES,
  type Operation,
  type Wallet,
} from "../db/schema/index.ts";
import { ERRORS, type ErrorCode, FAILURE_MESSAGES, type FailureCode } from "../errors.ts";
import { toJsonAmount } from "../money.ts";
import { operationType } from "../operation-types/catalog.ts";
import { metadataSchema } from "./fields.ts";

/**
 * The JSON shapes of docs/api.md's resources: zod schemas that the OpenAPI document declares (and
 * the tests check real responses against), the TypeScript types derived from them, and the
 * functions that build them from database rows.
 */

const MAX = Number.MAX_SAFE_INTEGER;
export const uuid = z.uuid();
export const timestamp = z.iso.datetime().describe("ISO 8601, UTC");
const currency = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .describe("ISO 4217 currency code");
const pageCursor = z
  .string()
  .nullable()
  .describe("Pass as `?cursor=` to get the next page; null on the last page");

export const walletSchema = z
  .strictObject({
    id: uuid,
    clientId: uuid.describe("The client that owns the wallet"),
    currency,
    balance: z.int().min(0).max(MAX).describe("Minor units; the sum of the wallet's entries"),
    heldBalance: z.int().min(0).max(MAX).describe("Minor units reserved by the wallet's active holds"),
    availableBalance: z
      .int()
      .min(0)
      .max(MAX)
      .describe("`balance - heldBalance`: what a transfer, payout or hold may debit"),
    version: z.int().min(0).describe("Number of entries posted to the wallet; grows by one with each"),
    metadata: metadataSchema,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Wallet" });
export type WalletResource = z.infer<typeof walletSchema>;

export function walletResource(w: Wallet): WalletResource {
  return {
    id: w.id,
    clientId: w.clientId ?? "",
    currency: w.currency,
    balance: toJsonAmount(w.balance),
    heldBalance: toJsonAmount(w.heldBalance),
    availableBalance: toJsonAmount(w.balance - w.heldBalance),
    version: Number(w.version),
    metadata: w.metadata,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

const failureCodes = Object.keys(FAILURE_MESSAGES) as [FailureCode, ...FailureCode[]];

export const holdSchema = z
  .strictObject({
    status: z
      .enum(HOLD_STATUSES)
      .describe(
        "`active` until captured, voided (by the client) or expired (voided by the system at `expiresAt`)",
      ),
    expiresAt: timestamp.describe("The hold operation's createdAt plus expiresInSeconds"),
    capturedAmount: z.int().min(1).max(MAX).nullable().describe("Minor units captured; null unless captured"),
    releasedAt: timestamp.nullable().describe("When the hold stopped being active; null while active"),
  })
  .meta({ id: "Hold" });
export type HoldResource = z.infer<typeof holdSchema>;

export function holdResource(h: Hold): HoldResource {
  return {
    status: h.status,
    expiresAt: h.expiresAt.toISOString(),
    capturedAmount: h.capturedAmount === null ? null : toJsonAmount(h.capturedAmount),
    releasedAt: h.releasedAt ? h.releasedAt.toISOString() : null,
  };
}

export const operationSchema = z
  .strictObject({
    id: uuid,
    type: z
      .enum(OPERATION_TYPES)
      .describe(
        "`hold` reserves money, `capture` moves (part of) a hold, `void` releases one, `refund` sends (part of) a transfer or capture back",
      ),
    status: z
      .enum(OPERATION_STATUSES)
      .describe("`pending` until a worker applies it; then `succeeded` or `failed`, never changing again"),
    amount: z
      .int()
      .min(1)
      .max(MAX)
      .describe("Minor units; a capture's is the amount captured, a void's the amount it releases"),
    currency,
    fromWalletId: uuid
      .nullable()
      .describe("The debited (or, for a hold's steps, reserved) wallet; null for a top-up"),
    toWalletId: uuid
      .nullable()
      .describe("The credited wallet (a hold's destination for its steps); null for a payout"),
    holdId: uuid
      .nullable()
      .describe("The hold operation a capture or void resolves; null for every other type"),
    hold: holdSchema.nullable().describe("The hold's state, on a succeeded `hold` operation only"),
    refundOf: uuid
      .nullable()
      .describe("The transfer or capture a refund sends money back along; null for every other type"),
    refundedAmount: z
      .int()
      .min(0)
      .max(MAX)
      .nullable()
      .describe(
        "On a transfer or capture, the sum of its succeeded refunds (0 on a new one), never above `amount`; null for every other type",
      ),
    failure: z
      .strictObject({
        code: z
          .enum(failureCodes)
          .describe(
            "`insufficient_funds` (against the available balance), `balance_limit_exceeded` (a balance may not pass 2^53-1), `hold_not_active` (the hold was captured, voided or expired, or its operation failed), `amount_exceeds_refundable` (a refund: the original's succeeded refunds and this one would pass its amount), `internal_error` (set aside; no money moved)",
          ),
        message: z.string(),
      })
      .nullable()
      .describe("Why it failed; null unless `status` is `failed`"),
    metadata: metadataSchema,
    createdAt: timestamp.describe("When it was accepted"),
    completedAt: timestamp.nullable().describe("When it left `pending`"),
  })
  .meta({ id: "Operation" });
export type OperationResource = z.infer<typeof operationSchema>;

/**
 * The operation resource; `hold` is the hold's row for a succeeded hold operation (ignored for
 * other types and statuses).
 */
export function operationResource(o: Operation, hold: Hold | null = null): OperationResource {
  return {
    id: o.id,
    type: o.type,
    status: o.status,
    amount: toJsonAmount(o.amount),
    currency: o.currency,
    fromWalletId: o.fromWalletId,
    toWalletId: o.toWalletId,
    holdId: o.holdId,
    hold: o.type === "hold" && o.status === "succeeded" && hold ? holdResource(hold) : null,
    refundOf: o.refundOf,
    refundedAmount: operationType(o.type).ledger.refundable ? toJsonAmount(o.refundedAmount) : null,
    failure: o.failureCode ? { code: o.failureCode as FailureCode, message: o.failureMessage ?? "" } : null,
    metadata: o.metadata,
    createdAt: o.createdAt.toISOString(),
    completedAt: o.completedAt ? o.completedAt.toISOString() : null,
  };
}

/**
 * The operation resource as it was when the operation completed, which the webhook of that event
 * carries, the same bytes on every retry whatever happened since: a succeeded hold operation's
 * hold as placed (active, nothing captured), a transfer's or capture's `refundedAmount` 0 (a
 * refund is accepted only once its original succeeded).
 */
export function operationAsCompleted(o: Operation): OperationResource {
  return operationResource({ ...o, refundedAmount: 0n }, holdAsPlaced(o));
}

function holdAsPlaced(o: Operation): Hold | null {
  if (o.type !== "hold" || o.status !== "succeeded" || !o.expiresAt || !o.fromWalletId || !o.toWalletId) {
    return null;
  }
  return {
    operationId: o.id,
    fromWalletId: o.fromWalletId,
    toWalletId: o.toWalletId,
    amount: o.amount,
    status: "active",
    expiresAt: o.expiresAt,
    capturedAmount: null,
    releasedAt: null,
  };
}

export const entrySchema = z
  .strictObject({
    id: uuid,
    operationId: uuid.describe("The operation that posted it (possibly another client's, for a credit)"),
    walletId: uuid,
    amount: z.int().min(-MAX).max(MAX).describe("Signed minor units: negative for a debit"),
    balanceAfter: z.int().min(0).max(MAX).describe("The wallet's balance right after this entry"),
    createdAt: timestamp,
  })
  .meta({ id: "Entry" });
export type EntryResource = z.infer<typeof entrySchema>;

export function entryResource(e: Entry): EntryResource {
  return {
    id: e.id,
    operationId: e.operationId,
    walletId: e.walletId,
    amount: toJsonAmount(e.amount),
    balanceAfter: toJsonAmount(e.balanceAfter),
    createdAt: e.createdAt.toISOString(),
  };
}

export const createdClientSchema = z
  .strictObject({
    id: uuid,
    name: z.string(),
    apiKey: z
      .string()
      .regex(/^sk_[A-Za-z0-9_-]{43}$/)
      .describe("The client's API key, shown this once: only its SHA-256 is stored"),
    createdAt: timestamp,
  })
  .meta({ id: "CreatedClient" });

/** Most items of one page: the largest `?limit=` (docs/api.md, "Conventions"). */
export const MAX_PAGE_SIZE = 100;

/** A page of `item`s, newest first. */
export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.strictObject({ data: z.array(item).max(MAX_PAGE_SIZE), nextCursor: pageCursor }).meta({ id });
}
export const walletPageSchema = pageOf(walletSchema, "WalletPage");
export const operationPageSchema = pageOf(operationSchema, "OperationPage");
export const entryPageSchema = pageOf(entrySchema, "EntryPage");

export const balanceAtSchema = z
  .strictObject({
    walletId: uuid,
    currency,
    at: timestamp.describe("The instant asked for"),
    balance: z
      .int()
      .min(0)
      .max(MAX)
      .describe("The posted balance then: the newest entry's balanceAfter at or before `at`"),
    version: z.int().min(0).describe("The number of entries posted at or before `at`"),
  })
  .meta({ id: "BalanceAt" });
export type BalanceAtResource = z.infer<typeof balanceAtSchema>;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

const errorCodes = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

/** RFC 9457 problem details, the body of every 4xx and 5xx (`application/problem+json`). */
export const problemSchema = z
  .strictObject({
    type: z.string().describe("`/problems/<code>`"),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().describe("What went wrong and what to do, for a human"),
    code: z.enum(errorCodes).describe("Stable machine-readable code (docs/api.md, Errors)"),
    requestId: z.string().describe("The same value as the X-Request-Id header"),
    errors: z
      .array(z.strictObject({ path: z.string(), message: z.string() }))
      .optional()
      .describe("`validation_error` only: each invalid field, e.g. `body.amount`, `query.limit`"),
    checks: z
      .strictObject({ postgres: z.enum(["ok", "down"]), redis: z.enum(["ok", "down"]) })
      .optional()
      .describe("`GET /readyz` only: which dependency did not answer"),
  })
  .meta({ id: "Problem" });

/** The answer to one item of a bulk submission, in the items' order. */
export const bulkResultSchema = z
  .union([
    z
      .strictObject({
        status: z.literal(202),
        replayed: z.boolean().describe("true when the item's key already held this operation (same body)"),
        operation: operationSchema,
      })
      .meta({ id: "BulkAccepted" }),
    z
      .strictObject({
        status: z
          .union([z.literal(400), z.literal(404), z.literal(422), z.literal(500), z.literal(503)])
          .describe(
            "400, 404 or 422: the item's own check refused it. 500 or 503: the database failed while inserting this item while others were accepted; a 503 `overloaded` item says whether it was created (its detail says `nothing was created` only when that is certain), and retrying it under its key is safe",
          ),
        error: problemSchema.describe(
          "The problem the single route would have answered; its requestId is the request's",
        ),
      })
      .meta({ id: "BulkRefused" }),
  ])
  .meta({ id: "BulkResult" });

export const bulkResponseSchema = z
  .strictObject({ data: z.array(bulkResultSchema).describe("One result per item, in the items' order") })
  .meta({ id: "BulkResponse" });
