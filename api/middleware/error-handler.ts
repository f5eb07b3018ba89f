import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { isTransientDbError } from "../../shared/db/pg-errors.ts";
import { ApiError, type ErrorCode, problemBody } from "../../shared/errors.ts";
import { errorSummary } from "../../shared/log-safe.ts";

/** Body-parser error types and the code each one maps to. */
const BODY_ERRORS: Record<string, ErrorCode> = {
  "entity.too.large": "payload_too_large",
  "entity.parse.failed": "validation_error",
  "encoding.unsupported": "unsupported_media_type",
  "charset.unsupported": "unsupported_media_type",
};

function toApiError(err: unknown, log: Logger): ApiError {
  if (err instanceof ApiError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === "string" && type in BODY_ERRORS) {
    const code = BODY_ERRORS[type] ?? "validation_error";
    const limit = (err as { limit?: unknown }).limit;
    const detail =
      code === "payload_too_large"
        ? `The body is larger than ${typeof limit === "number" && limit >= 1_048_576 ? `${limit / 1_048_576} MiB` : "64 KiB"}.`
        : code === "validation_error"
          ? "The body is not valid JSON."
          : "The body's encoding is not supported; send UTF-8 JSON.";
    return new ApiError(code, detail);
  }
  if (err instanceof URIError) {
    // The router decodes path parameters and forwards what does not decode (`/v1/wallets/%ZZ`).
    return new ApiError("validation_error", "The path is not valid percent-encoding.", {
      errors: [{ path: "path", message: "a percent sign must be followed by two hex digits of UTF-8" }],
    });
  }
  if (isTransientDbError(err)) {
    // Postgres is restarting or out of connections. The request may or may not have been
    // accepted; a retry under the same Idempotency-Key is safe either way.
    log.warn({ err: errorSummary(err) }, "database unavailable");
    return new ApiError(
      "overloaded",
      "The service is briefly unavailable; retry with the same Idempotency-Key.",
      {
        retryAfter: 1,
      },
    );
  }
  log.error({ err: errorSummary(err) }, "unhandled error");
  return new ApiError("internal_error", "An internal error occurred.");
}

/** The one renderer of errors: RFC 9457 problem details with a stable `code` and the request id. */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const e = toApiError(err, log);
    if (e.retryAfter !== undefined) res.setHeader("Retry-After", String(e.retryAfter));
    res
      .status(e.status)
      .type("application/problem+json")
      .send(JSON.stringify(problemBody(e, res.locals.requestId)));
  };
}

/** Unmatched routes. */
export function notFound(): never {
  throw new ApiError("not_found", "No such route.");
}
