import { z } from "zod";
import { OPERATION_STATUSES, OPERATION_TYPES } from "../db/schema/operations.ts";
import { WEBHOOK_EVENT_TYPES } from "../db/schema/webhook-endpoints.ts";
import { MAX_WEBHOOK_URL_LENGTH, parseWebhookUrl } from "../webhooks/webhook-url.ts";
import { currencySchema, idSchema, metadataSchema, STORABLE, storable } from "./fields.ts";

/**
 * Request schemas of the HTTP API (docs/api.md) beside the operation types' bodies (each in its
 * module of shared/operation-types/). The same schemas validate requests and generate the
 * OpenAPI document. Objects are strict: an unknown field is a 400, not ignored.
 */

export const createClientBody = z.strictObject({
  name: z.string().min(1).max(200).refine(storable, STORABLE),
});

export const createWalletBody = z.strictObject({
  currency: currencySchema.default("USD"),
  metadata: metadataSchema.default({}),
});

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
  status: z.enum(OPERATION_STATUSES).optional(),
  type: z.enum(OPERATION_TYPES).optional(),
});

/**
 * `at` as a client may have sent it, put in RFC 3339's canonical form: an offset's `+` arrives
 * as a space when the query was not percent-encoded (a query reads `+` as a space), and RFC 3339
 * allows a lower-case `t` and `z`. Anything else is left to the schema to refuse.
 */
function instantAsSent(at: unknown): unknown {
  if (typeof at !== "string") return at;
  return at
    .replace(/^(\d{4}-\d{2}-\d{2})t/, "$1T")
    .replace(/(\d)z$/, "$1Z")
    .replace(/(\d) (\d{2}:\d{2})$/, "$1+$2");
}

/** `GET /v1/wallets/:id/balance?at=`: an ISO 8601 instant with `Z` or an offset (not in the future: the route checks). */
export const balanceAtQuery = z.object({
  at: z.preprocess(instantAsSent, z.iso.datetime({ offset: true })).meta({
    description:
      "ISO 8601 time with Z or an offset, in RFC 3339's form (seconds required, the offset Z or ±hh:mm; t and z in either case; a + sent unencoded, read as a space, is taken as +), e.g. 2026-12-01T00:00:00Z",
    // `format: date-time` (RFC 3339) says it, lower-case `t` and `z` included; zod's pattern
    // would refuse those, which the server takes.
    override: ({ jsonSchema }) => {
      delete jsonSchema.pattern;
    },
  }),
});

export const getOperationQuery = z.object({
  wait: decimalInt(0, 30, 0, "Seconds to wait while the operation is pending, 0..30 (default 0)"),
});

/**
 * `POST /v1/webhook-endpoints`. The URL's syntax is checked here (http or https, no user info,
 * no port 0, at most 2048 characters after normalisation); whether its host may be connected to
 * needs DNS and is checked by the route after this schema.
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

/** Most items in one bulk submission (docs/api.md, "Bulk submission"). */
export const MAX_BULK_ITEMS = 1_000;

/**
 * A bulk submission's envelope: `{ operations: [1..1000 objects] }`; anything else refuses the
 * whole request. Each item is then checked on its own (`bulkItemHead`, then its type's body).
 */
export const bulkEnvelope = z.strictObject({
  operations: z
    .array(z.looseObject({}))
    .min(1)
    .max(MAX_BULK_ITEMS)
    .describe(`1..${MAX_BULK_ITEMS} operations, each accepted or refused on its own, answered in this order`),
});
