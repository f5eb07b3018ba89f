import { z } from "zod";

/**
 * The field schemas every request body is made of (docs/api.md): metadata, currency, amount, ids and
 * the Idempotency-Key. Objects are strict where they are used: an unknown field is a 400.
 */

const codePoints = (s: string): number => [...s].length;

/**
 * Text Postgres stores as sent: no U+0000 (`text` and `jsonb` reject it) and no lone surrogate
 * (`jsonb` rejects its escape). Without this check such input is a 500, not a 400.
 */
export const storable = (s: string): boolean => s.isWellFormed() && !s.includes("\u0000");
export const STORABLE = "must be well-formed Unicode without U+0000";

/** docs/api.md's metadata limits: keys, key length and value length in Unicode code points. */
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
    description:
      "At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000",
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
 * The body of a movement between one of the caller's wallets and the outside (a top-up's, a
 * payout's): the wallet, the amount, metadata.
 */
export const oneWalletBody = () =>
  z.strictObject({ walletId: idSchema, amount: amountSchema, metadata: metadataSchema.default({}) });

type TwoWallets = { fromWalletId: string; toWalletId: string };

/**
 * The body of a movement from one of the caller's wallets to another (a transfer's, a hold's):
 * the two wallets, the amount, the type's own `fields`, metadata; the wallets must differ (400 on
 * `toWalletId`).
 */
export const twoWalletBody = <F extends z.ZodRawShape>(fields: F) =>
  z
    .strictObject({
      fromWalletId: idSchema,
      toWalletId: idSchema,
      amount: amountSchema,
      ...fields,
      metadata: metadataSchema.default({}),
    })
    .refine(
      (b) => {
        // The body's type is generic in `fields`; the two wallets are in it whatever they are.
        const { fromWalletId, toWalletId } = b as unknown as TwoWallets;
        return fromWalletId !== toWalletId;
      },
      {
        message: "fromWalletId and toWalletId must differ",
        path: ["toWalletId"],
      },
    );
