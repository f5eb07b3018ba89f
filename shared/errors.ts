/**
 * The one error vocabulary of the HTTP API (docs/api.md, "Errors"). Handlers throw {@link ApiError};
 * one Express middleware renders it as RFC 9457 problem details.
 */
export type ErrorCode =
  /** 400: the body, a query parameter or a header does not match its schema; also malformed JSON. */
  | "validation_error"
  /** 400: a POST that moves or reserves money without an Idempotency-Key header. */
  | "idempotency_key_required"
  /** 401: no bearer key, or one that matches nothing. */
  | "unauthorized"
  /** 403: a valid key on a route it may not use. */
  | "forbidden"
  /** 404: no such route or resource. */
  | "not_found"
  /** 404: the wallet does not exist or belongs to another client (indistinguishable on purpose). */
  | "wallet_not_found"
  /** 404: no hold operation with this id is the client's (missing, another client's, or another type). */
  | "hold_not_found"
  /** 422: a capture of more than its hold's amount. */
  | "amount_exceeds_hold"
  /** 404: no operation with this id that the client submitted or received (a refund's original). */
  | "operation_not_found"
  /** 422: a refund of an operation that is not a succeeded transfer or capture into the client's wallet. */
  | "operation_not_refundable"
  /** 422: a refund of more than its original's amount (at acceptance), or than is left of it (when applied). */
  | "amount_exceeds_refundable"
  /** 413: body over 64 KiB. */
  | "payload_too_large"
  /** 415: a POST whose Content-Type is not application/json. */
  | "unsupported_media_type"
  /** 422: the Idempotency-Key was used before with a different request body. */
  | "idempotency_key_reused"
  /** 422: the wallets of a transfer hold different currencies. */
  | "currency_mismatch"
  /** 429: the client sent too many requests; see Retry-After. */
  | "rate_limited"
  /**
   * 503: the system is overloaded (nothing was created) or the database failed; see Retry-After.
   * After a database failure the detail says whether the request was created (api/services/
   * lost-insert.ts): never "nothing was created" unless that is certain.
   */
  | "overloaded"
  /** 500: an unexpected error; the body never says more. */
  | "internal_error";

/** Status and title of each code. Exhaustive by type: adding a code without a row fails to compile. */
export const ERRORS: { readonly [C in ErrorCode]: { status: number; title: string } } = {
  validation_error: { status: 400, title: "Invalid request" },
  idempotency_key_required: { status: 400, title: "Idempotency-Key header required" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  wallet_not_found: { status: 404, title: "Wallet not found" },
  hold_not_found: { status: 404, title: "Hold not found" },
  amount_exceeds_hold: { status: 422, title: "Amount exceeds hold" },
  operation_not_found: { status: 404, title: "Operation not found" },
  operation_not_refundable: { status: 422, title: "Operation not refundable" },
  amount_exceeds_refundable: { status: 422, title: "Amount exceeds refundable" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  idempotency_key_reused: { status: 422, title: "Idempotency key reused" },
  currency_mismatch: { status: 422, title: "Currency mismatch" },
  rate_limited: { status: 429, title: "Too many requests" },
  overloaded: { status: 503, title: "Overloaded" },
  internal_error: { status: 500, title: "Internal error" },
};

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  /** Seconds, for 429 and 503. */
  readonly retryAfter: number | undefined;
  /** RFC 9457 extension members beside the standard ones (e.g. `/readyz`'s `checks`). */
  readonly extensions: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    detail: string,
    opts: { errors?: FieldError[]; retryAfter?: number; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    this.errors = opts.errors;
    this.retryAfter = opts.retryAfter;
    this.extensions = opts.extensions;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

/** RFC 9457 problem details of `e`: an error answer's body, and a refused bulk item's `error`. */
export function problemBody(e: ApiError, requestId: string): Record<string, unknown> {
  return {
    ...e.extensions,
    type: `/problems/${e.code}`,
    title: ERRORS[e.code].title,
    status: e.status,
    detail: e.message,
    code: e.code,
    requestId,
    ...(e.errors ? { errors: e.errors } : {}),
  };
}

/** Failure codes of an applied operation (`operation.failure.code`), not HTTP errors. */
export type FailureCode =
  | "insufficient_funds"
  | "balance_limit_exceeded"
  | "hold_not_active"
  | "amount_exceeds_refundable"
  | "internal_error";

export const FAILURE_MESSAGES: { readonly [C in FailureCode]: string } = {
  insufficient_funds:
    "The source wallet's available balance (its balance less its active holds) is lower than the amount.",
  balance_limit_exceeded:
    "The operation would take a balance past its limit: a wallet holds at most 9007199254740991, and a funding account stays within Postgres's bigint.",
  hold_not_active:
    "The hold is no longer active: it was captured, voided or expired, or its own operation failed.",
  amount_exceeds_refundable:
    "The original's succeeded refunds and this one would pass the original's amount.",
  internal_error: "The operation could not be applied; no money moved.",
};
