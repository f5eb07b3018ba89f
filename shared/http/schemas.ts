import { z } from "zod";
import { OPERATION_TYPES, type OperationType } from "../db/schema/operations.ts";
import { WEBHOOK_EVENT_TYPES } from "../db/schema/webhook-endpoints.ts";
import { MAX_WEBHOOK_URL_LENGTH, parseWebhookUrl } from "../webhooks/webhook-url.ts";

/**
 * Request schemas of the HTTP API (API.md). The same schemas validate requests and, later,
 * generate the OpenAPI document. Objects are strict: an unknown field is a 400, not ignored.
 */

const codePoints = (s: string): number => [...s].length;

/**
 * Text Postgres stores as sent: no U+0000 (`text` and `jsonb` reject it) and no lone surrogate
 * (`jsonb` rejects its escape). Without this check such input is a 500, not a 400.
 */
const storable = (s: string): boolean => s.isWellFormed() && !s.includes("\u0000");
const STORABLE = "must be well-formed Unicode without U+0000";

/** API.md's metadata limits: keys, key length and value length in Unicode code points. */
const METADATA_MAX_KEYS = 50;
const METADATA_MAX_KEY_LENGTH = 40;
const METADATA_MAX_VALUE_LENGTH = 500;

export const metadataSchema = z
  .record(
    z
      .string()
      .refine(
        (k) => codePoints(k) >= 1 && codePoints(k) <= METADATA_MAX_KEY_LENGTH,
        "metadata keys are 1..40 characters",
      )
      .refine(storable, STORABLE),
    z
      .string()
      .refine((v) => codePoints(v) <= METADATA_MAX_VALUE_LENGTH, "metadata values are at most 500 characters")
      .refine(storable, STORABLE),
  )
  .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, "metadata has at most 50 keys")
  .meta({
    description: "At most 50 keys of 1..40 characters, string values of at most 500 characters",
    // The refinements above, as the document's keywords. JSON Schema counts a string's length in
    // Unicode code points, as these checks do (zod's own .max would count UTF-16 units).
    override: {
      maxProperties: METADATA_MAX_KEYS,
      propertyNames: { type: "string", minLength: 1, maxLength: METADATA_MAX_KEY_LENGTH },
      additionalProperties: { type: "string", maxLength: METADATA_MAX_VALUE_LENGTH },
    },
  });

const ISO_4217 = new Set(Intl.supportedValuesOf("currency"));
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, "an ISO 4217 code: three upper-case letters")
  .refine((c) => ISO_4217.has(c), "not an ISO 4217 currency code")
  .describe("ISO 4217 currency code");

export const amountSchema = z
  .number()
  .int("an integer number of minor units")
  .min(1)
  .max(Number.MAX_SAFE_INTEGER)
  .describe("Integer number of minor units (cents), 1..9007199254740991");

/** Lower-cased, so that one wallet has one spelling (the from/to check, the request hash). */
export const idSchema = z.uuid("a UUID").toLowerCase();

export const createClientBody = z.strictObject({
  name: z.string().min(1).max(200).refine(storable, STORABLE),
});

export const createWalletBody = z.strictObject({
  currency: currencySchema.default("USD"),
  metadata: metadataSchema.default({}),
});

export const topUpBody = z.strictObject({
  walletId: idSchema,
  amount: amountSchema,
  metadata: metadataSchema.default({}),
});

export const transferBody = z
  .strictObject({
    fromWalletId: idSchema,
    toWalletId: idSchema,
    amount: amountSchema,
    metadata: metadataSchema.default({}),
  })
  .refine((b) => b.fromWalletId !== b.toWalletId, {
    message: "fromWalletId and toWalletId must differ",
    path: ["toWalletId"],
  });

export const payoutBody = z.strictObject({
  walletId: idSchema,
  amount: amountSchema,
  metadata: metadataSchema.default({}),
});

/** Longest a hold may last: 30 days, s. */
export const MAX_HOLD_SECONDS = 2_592_000;

export const holdBody = z
  .strictObject({
    fromWalletId: idSchema,
    toWalletId: idSchema,
    amount: amountSchema,
    expiresInSeconds: z
      .number()
      .int("a whole number of seconds")
      .min(1)
      .max(MAX_HOLD_SECONDS)
      .default(604_800)
      .describe(
        "Seconds until the system voids the hold if it is still active, 1..2592000 (30 days); 7 days by default",
      ),
    metadata: metadataSchema.default({}),
  })
  .refine((b) => b.fromWalletId !== b.toWalletId, {
    message: "fromWalletId and toWalletId must differ",
    path: ["toWalletId"],
  });

export const captureBody = z.strictObject({
  amount: amountSchema.optional().describe("Minor units to move, 1..the held amount; all of it by default"),
  metadata: metadataSchema.default({}),
});

export const voidBody = z.strictObject({
  metadata: metadataSchema.default({}),
});

export const refundBody = z.strictObject({
  operationId: idSchema.describe(
    "The original: a succeeded transfer or capture whose destination wallet is the caller's",
  ),
  amount: amountSchema
    .optional()
    .describe("Minor units to send back, 1..the original's amount; all of it by default"),
  metadata: metadataSchema.default({}),
});

/**
 * 1..255 printable ASCII characters, not beginning or ending with a space: HTTP strips those from
 * a header value, so a bulk item's key with them would name another key than the same header
 * (the lengths are the pattern's, written out for the document).
 */
export const idempotencyKeySchema = z
  .string()
  .regex(
    /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/,
    "1..255 printable ASCII characters, not beginning or ending with a space",
  )
  .meta({ override: { minLength: 1, maxLength: 255 } });

/**
 * A query parameter holding a whole number in plain decimal: "0x10", "1e2", "5.0" or " 5" are
 * refused rather than read as numbers (z.coerce.number would accept them all). A query string is
 * text, so the parser takes a string; the document says `integer` with its bounds, which is what
 * a generated client should send (a number, written in decimal by every URL encoder).
 */
const decimalInt = (min: number, max: number, fallback: number, description: string) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `a whole number ${min}..${max} in decimal digits`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback)
    .meta({
      description,
      override: ({ jsonSchema }) => {
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        Object.assign(jsonSchema, {
          type: "integer",
          format: "int32",
          minimum: min,
          maximum: max,
          default: fallback,
          description,
        });
      },
    });

export const pageQuery = z.object({
  limit: decimalInt(1, 100, 20, "Page size, 1..100 (default 20)"),
  cursor: z.string().min(1).max(200).optional(),
});

export const listOperationsQuery = pageQuery.extend({
  walletId: idSchema.optional(),
  status: z.enum(["pending", "succeeded", "failed"]).optional(),
  type: z.enum(OPERATION_TYPES).optional(),
});

/** `GET /v1/wallets/:id/balance?at=`: an ISO 8601 instant with `Z` or an offset (not in the future: the route checks). */
export const balanceAtQuery = z.object({
  at: z.iso
    .datetime({ offset: true })
    .describe("ISO 8601 time with Z or an offset, e.g. 2026-12-01T00:00:00Z"),
});

export const getOperationQuery = z.object({
  wait: decimalInt(0, 30, 0, "Seconds to wait while the operation is pending, 0..30 (default 0)"),
});

/**
 * `POST /v1/webhook-endpoints`. The URL's syntax is checked here (http or https, no user info,
 * at most 2048 characters after normalisation); whether its host may be connected to needs DNS
 * and is checked by the route after this schema.
 */
export const createWebhookEndpointBody = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(MAX_WEBHOOK_URL_LENGTH)
    .superRefine((raw, ctx) => {
      const parsed = parseWebhookUrl(raw);
      if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
    })
    .describe("http(s) URL whose host is, or resolves only to, public addresses"),
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .min(1)
    .refine((events) => new Set(events).size === events.length, "an event type may be listed only once")
    .default([...WEBHOOK_EVENT_TYPES])
    .meta({
      description: "Event types to receive; both by default",
      // The refinement, as keywords: distinct types, so at most as many as there are.
      override: { uniqueItems: true, maxItems: WEBHOOK_EVENT_TYPES.length },
    }),
});

export type TopUpBody = z.infer<typeof topUpBody>;
export type TransferBody = z.infer<typeof transferBody>;
export type PayoutBody = z.infer<typeof payoutBody>;
export type HoldBody = z.infer<typeof holdBody>;
export type CaptureBody = z.infer<typeof captureBody>;
export type VoidBody = z.infer<typeof voidBody>;
export type RefundBody = z.infer<typeof refundBody>;

/** Most items in one bulk submission (API.md, "Bulk submission"). */
export const MAX_BULK_ITEMS = 1_000;

/**
 * A bulk submission's envelope: `{ operations: [1..1000 objects] }`; anything else refuses the
 * whole request. Each item is then checked on its own ({@link bulkItemHead}, then its type's body).
 */
export const bulkEnvelope = z.strictObject({
  operations: z
    .array(z.looseObject({}))
    .min(1)
    .max(MAX_BULK_ITEMS)
    .describe(`1..${MAX_BULK_ITEMS} operations, each accepted or refused on its own, answered in this order`),
});

/** What every bulk item carries beside its type's body: the type, and the item's Idempotency-Key. */
export const bulkItemHead = z.object({
  type: z.enum(OPERATION_TYPES),
  idempotencyKey: idempotencyKeySchema.optional(),
  holdId: z.string().max(100).optional(),
});

const item = <T extends z.ZodObject>(type: OperationType, body: T) =>
  body.safeExtend({
    type: z.literal(type),
    idempotencyKey: idempotencyKeySchema.describe(
      "This item's Idempotency-Key: the header's rules and key space",
    ),
  });
const holdStep = { holdId: idSchema.describe("The hold operation's id") };

/** The items of a bulk submission, one per operation type: the single routes' bodies plus `type` and `idempotencyKey` (documented). */
export const bulkItemSchemas = [
  item("top_up", topUpBody),
  item("transfer", transferBody),
  item("payout", payoutBody),
  item("hold", holdBody),
  item("capture", captureBody.extend(holdStep)),
  item("void", voidBody.extend(holdStep)),
  item("refund", refundBody),
] as const;
