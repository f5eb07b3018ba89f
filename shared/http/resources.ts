import { z } from "zod";
import type { Entry, Operation, Wallet } from "../db/schema/index.ts";
import { ERRORS, type ErrorCode, FAILURE_MESSAGES, type FailureCode } from "../errors.ts";
import { toJsonAmount } from "../money.ts";
import { metadataSchema } from "./schemas.ts";

/**
 * The JSON shapes of API.md's resources: zod schemas that the OpenAPI document declares (and
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
    version: Number(w.version),
    metadata: w.metadata,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

const failureCodes = Object.keys(FAILURE_MESSAGES) as [FailureCode, ...FailureCode[]];

export const operationSchema = z
  .strictObject({
    id: uuid,
    type: z.enum(["top_up", "transfer"]),
    status: z
      .enum(["pending", "succeeded", "failed"])
      .describe("`pending` until a worker applies it; then `succeeded` or `failed`, never changing again"),
    amount: z.int().min(1).max(MAX).describe("Minor units"),
    currency,
    fromWalletId: uuid.nullable().describe("The debited wallet of a transfer; null for a top-up"),
    toWalletId: uuid.describe("The credited wallet"),
    failure: z
      .strictObject({
        code: z
          .enum(failureCodes)
          .describe(
            "`insufficient_funds`, `balance_limit_exceeded` (a balance may not pass 2^53-1), `internal_error` (set aside; no money moved)",
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

export function operationResource(o: Operation): OperationResource {
  return {
    id: o.id,
    type: o.type,
    status: o.status,
    amount: toJsonAmount(o.amount),
    currency: o.currency,
    fromWalletId: o.fromWalletId,
    toWalletId: o.toWalletId,
    failure: o.failureCode ? { code: o.failureCode as FailureCode, message: o.failureMessage ?? "" } : null,
    metadata: o.metadata,
    createdAt: o.createdAt.toISOString(),
    completedAt: o.completedAt ? o.completedAt.toISOString() : null,
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

/** Most items of one page: the largest `?limit=` (API.md, Lists). */
export const MAX_PAGE_SIZE = 100;

/** A page of `item`s, newest first. */
export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.strictObject({ data: z.array(item).max(MAX_PAGE_SIZE), nextCursor: pageCursor }).meta({ id });
}
export const walletPageSchema = pageOf(walletSchema, "WalletPage");
export const operationPageSchema = pageOf(operationSchema, "OperationPage");
export const entryPageSchema = pageOf(entrySchema, "EntryPage");

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
    code: z.enum(errorCodes).describe("Stable machine-readable code (API.md, Errors)"),
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
