import type { Problem, ProblemCode } from "./types.ts";

/**
 * An error answer of the API (4xx, 5xx), carrying its problem details (RFC 9457): `code` is the
 * stable machine-readable one (docs/api.md, Errors), `errors` lists each invalid field of a
 * `validation_error`, `requestId` is the answer's X-Request-Id (quote it when asking for help).
 */
export class BillingError extends Error {
  override readonly name = "BillingError";
  readonly status: number;
  readonly code: ProblemCode;
  readonly requestId: string;
  readonly errors: { path: string; message: string }[];
  /** The problem body as the API sent it. */
  readonly problem: Problem;
  /** Attempts the call made (1 + retries), this answer being the last. */
  readonly attempts: number;

  constructor(problem: Problem, attempts = 1) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.problem = problem;
    this.attempts = attempts;
    this.status = problem.status;
    this.code = problem.code;
    this.requestId = problem.requestId;
    this.errors = problem.errors ?? [];
  }

  /** The error of an answer: its problem body, or one made up when the body is not one (a proxy's page). */
  static async from(res: Response, attempts = 1): Promise<BillingError> {
    const text = await res.text();
    const requestId = res.headers.get("x-request-id") ?? "";
    try {
      const body = JSON.parse(text) as Partial<Problem>;
      if (typeof body.code === "string" && typeof body.status === "number") {
        return new BillingError({ ...body, requestId: body.requestId ?? requestId } as Problem, attempts);
      }
    } catch {
      // Not JSON: described below.
    }
    return new BillingError(
      {
        type: "about:blank",
        title: res.statusText || "Unexpected answer",
        status: res.status,
        detail: `The answer was not a problem document: ${text.slice(0, 200)}`,
        code: res.status >= 500 ? "internal_error" : "not_found",
        requestId,
      },
      attempts,
    );
  }
}

/** The API could not be reached, or did not answer in time, on every attempt. */
export class BillingConnectionError extends Error {
  override readonly name = "BillingConnectionError";
  /** Attempts made (1 + retries). */
  readonly attempts: number;

  constructor(message: string, attempts: number, cause: unknown) {
    super(message, { cause });
    this.attempts = attempts;
  }
}
