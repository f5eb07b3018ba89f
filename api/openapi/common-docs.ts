import { z } from "zod";
import type { ZodOpenApiResponseObject, ZodOpenApiResponsesObject } from "zod-openapi";
import { problemSchema } from "../../shared/http/resources.ts";

/** Pieces every route's documentation shares: headers, problem responses, security. */

const requestId = z
  .string()
  .min(1)
  .max(200)
  .meta({
    description: "The caller's X-Request-Id if it sent a sane one (1..200 printable ASCII), else a new UUID",
    header: { id: "X-Request-Id" },
  });
export const retryAfter = z
  .int()
  .min(1)
  // The longest wait the api asks for: the end of a rate-limit window (RATE_LIMIT_WINDOW_SECONDS ≤ 3600).
  .max(3600)
  .meta({ description: "Seconds to wait before retrying", header: { id: "Retry-After" } });
const rateLimit = z
  .string()
  .optional()
  .meta({
    description:
      'Current service limit (draft-ietf-httpapi-ratelimit-headers-10), e.g. `"per-client";r=99987;t=7`: `r` requests left in the window, `t` seconds until it ends. Absent when rate limiting is off or Redis does not answer.',
    header: { id: "RateLimit" },
  });
const rateLimitPolicy = z
  .string()
  .optional()
  .meta({
    description:
      'Quota policy (draft-ietf-httpapi-ratelimit-headers-10), e.g. `"per-client";q=100000;w=10`: `q` requests per client per window of `w` seconds, shared by every api process.',
    header: { id: "RateLimit-Policy" },
  });

/** Headers of every answer of an authenticated `/v1` route. */
export const v1Headers = z.object({
  "X-Request-Id": requestId,
  RateLimit: rateLimit,
  "RateLimit-Policy": rateLimitPolicy,
});
/** Headers of the operations endpoints (no auth, no rate limit). */
export const plainHeaders = z.object({ "X-Request-Id": requestId });

const problem = (
  id: string,
  description: string,
  headers: z.ZodObject = v1Headers,
): ZodOpenApiResponseObject => ({
  id,
  description,
  headers,
  content: { "application/problem+json": { schema: problemSchema } },
});

export const problems = {
  badRequest: problem(
    "BadRequest",
    '`validation_error`: the body, a query parameter or a header does not match its schema (each field in `errors`), or the body is not UTF-8 I-JSON (RFC 7493: an object with two members of the same name, escaped spellings included, is refused, never "the last one wins"), or a number is written with a fraction or an exponent (`1.0`, `1e2`: only integer literals are numbers here), or a member is named `__proto__`, or the path is not percent-encoded UTF-8, or the request is not well-formed HTTP/1.1 (then with a new request id, and the connection closed). An empty body reads as `{}`. `idempotency_key_required`: a POST that moves or reserves money (top-ups, transfers, payouts, holds, the capture and void of a hold, refunds) without an Idempotency-Key.',
  ),
  // No RateLimit headers: no client's quota was counted for a key that matches nothing.
  unauthorized: problem(
    "Unauthorized",
    "`unauthorized`: no bearer key, or one that matches nothing.",
    plainHeaders,
  ),
  forbidden: problem(
    "Forbidden",
    "`forbidden`: a valid key on a route it may not use (the operator's token on a client route, a client's key on /v1/clients).",
  ),
  notFound: problem(
    "NotFound",
    "`not_found`: no such resource (or none this client may see), or no such route.",
  ),
  walletNotFound: problem(
    "WalletNotFound",
    "`wallet_not_found`: no such wallet, or another client's (the two are indistinguishable on purpose).",
  ),
  holdNotFound: problem(
    "HoldNotFound",
    "`hold_not_found`: no hold operation with this id is this client's (missing, another client's, or an operation of another type).",
  ),
  operationNotFound: problem(
    "OperationNotFound",
    "`operation_not_found`: no operation with this id was submitted or received by this client (missing, or between other clients).",
  ),
  payloadTooLarge: problem(
    "PayloadTooLarge",
    "`payload_too_large`: the body is over 64 KiB (1 MiB for POST /v1/operations/bulk).",
  ),
  unsupportedMediaType: problem(
    "UnsupportedMediaType",
    "`unsupported_media_type`: a POST whose Content-Type is not application/json (UTF-8).",
  ),
  unprocessable: problem(
    "Unprocessable",
    "`idempotency_key_reused`: the Idempotency-Key was used before with a different body; nothing was created. `currency_mismatch` (transfers, holds): the two wallets hold different currencies. `amount_exceeds_hold` (captures): more than the held amount. `operation_not_refundable` (refunds): the original is not a succeeded transfer or capture into this client's wallet. `amount_exceeds_refundable` (refunds): more than the original's amount.",
  ),
  rateLimited: {
    ...problem(
      "RateLimited",
      "`rate_limited`: the client made more requests than its policy allows in the current window (see RateLimit-Policy). Nothing was done.",
    ),
    headers: v1Headers.extend({ "Retry-After": retryAfter }),
  },
  internal: problem("InternalError", "`internal_error`: an unexpected error. The body never says more."),
  unavailable: {
    ...problem(
      "Unavailable",
      "`overloaded`: backpressure (too many operations waiting to be applied, or this server too busy) or the database briefly unavailable. On a POST that moves or reserves money, backpressure creates nothing. When the database failed, the api first reads the key back: an operation that exists is answered 202, and a 503 says either that nothing was created (certain: the insert was refused, never sent, or read back absent after its session was ended) or, when the database stayed unreachable for 10 s after losing the insert's answer, that the request may or may not have been accepted. Retrying with the same Idempotency-Key is safe in every case: it answers the operation if it exists and creates it once if not.",
    ),
    headers: v1Headers.extend({ "Retry-After": retryAfter }),
  },
} satisfies Record<string, ZodOpenApiResponseObject>;

/** The error answers of every authenticated route (a 400 for a path that is not percent-encoded, at least). */
export const authenticatedErrors: ZodOpenApiResponsesObject = {
  "400": problems.badRequest,
  "401": problems.unauthorized,
  "403": problems.forbidden,
  "429": problems.rateLimited,
  "500": problems.internal,
  "503": problems.unavailable,
};

/** The error answers of every authenticated POST: its body is JSON of at most 64 KiB. */
export const postErrors: ZodOpenApiResponsesObject = {
  ...authenticatedErrors,
  "413": problems.payloadTooLarge,
  "415": problems.unsupportedMediaType,
};

/** A JSON answer of a `/v1` route. */
export const jsonResponse = (
  description: string,
  schema: z.ZodType,
  headers: z.ZodObject = v1Headers,
): ZodOpenApiResponseObject => ({
  description,
  headers,
  content: { "application/json": { schema } },
});

export const clientSecurity = [{ clientKey: [] }];
export const operatorSecurity = [{ operatorToken: [] }];

/** A path parameter `id`. */
export const idParam = (description: string) =>
  z.object({
    id: z.string().meta({
      description: `${description} (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400)`,
    }),
  });
