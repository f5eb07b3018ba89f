import { expect } from "vitest";
import type { Reply } from "./http.ts";

/** The error codes of docs/api.md ("Errors") and the status each one is sent with. */
export const PROBLEM_STATUS = {
  validation_error: 400,
  idempotency_key_required: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  wallet_not_found: 404,
  hold_not_found: 404,
  amount_exceeds_hold: 422,
  operation_not_found: 404,
  operation_not_refundable: 422,
  amount_exceeds_refundable: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  currency_mismatch: 422,
  rate_limited: 429,
  overloaded: 503,
  internal_error: 500,
} as const;

export type ProblemCode = keyof typeof PROBLEM_STATUS;

/**
 * Asserts a whole RFC 9457 problem response: status, `application/problem+json`, exactly the
 * fields `{ type, title, status, detail, code, requestId }` (plus `errors` for validation errors,
 * each exactly `{ path, message }`), and `requestId` equal to the `X-Request-Id` header.
 * `paths`: the distinct `errors[].path` values expected, when the caller knows them.
 */
export function expectProblem(r: Reply, code: ProblemCode, opts: { paths?: string[] } = {}): void {
  const status = PROBLEM_STATUS[code];
  expect(r.status, `expected ${status} ${code}, got ${JSON.stringify(r.body)}`).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json(;|$)/);
  const requestId = r.headers.get("x-request-id");
  expect(requestId).toMatch(/\S/);
  const nonEmpty = expect.stringMatching(/\S/);
  const expected: Record<string, unknown> = {
    type: `/problems/${code}`,
    title: nonEmpty,
    status,
    detail: nonEmpty,
    code,
    requestId,
  };
  if (code === "validation_error" && r.body?.errors !== undefined) {
    expected.errors = expect.any(Array);
  }
  expect(r.body).toStrictEqual(expected);
  if (r.body.errors !== undefined) {
    expect(r.body.errors.length).toBeGreaterThan(0);
    for (const e of r.body.errors) expect(e).toStrictEqual({ path: nonEmpty, message: nonEmpty });
  }
  if (opts.paths) {
    expect(r.body.errors, "errors[] naming the invalid fields").toBeDefined();
    const paths = new Set<string>(r.body.errors.map((e: { path: string }) => e.path));
    expect([...paths].sort()).toEqual([...new Set(opts.paths)].sort());
  }
}

/** The problem body minus its request id: what two "not found" answers must share to be indistinguishable. */
export function problemWithoutRequestId(r: Reply): Record<string, unknown> {
  const { requestId: _requestId, ...rest } = r.body as Record<string, unknown>;
  return rest;
}
