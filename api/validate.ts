import type { z } from "zod";
import { ApiError, type FieldError } from "../shared/errors.ts";
import { NonIntegerLiteral } from "../shared/http/strict-json.ts";

/**
 * Parses `value` with `schema`, or throws a 400 `validation_error` listing every problem. A member
 * named `__proto__` is refused wherever it is (zod would drop it without a word, so a metadata
 * key would vanish and `{"__proto__":"a"}` would hash as `{}`).
 */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  /** False for a bulk envelope: its items are checked one by one, each refused on its own. */
  refuseReservedNames = true,
): z.infer<S> {
  const errors = refuseReservedNames ? reservedNames(value, [where]) : [];
  const result = schema.safeParse(value);
  if (result.success && errors.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) {
      errors.push({ path: [where, ...issue.path.map(String)].join("."), message: messageOf(issue, value) });
    }
  }
  throw new ApiError("validation_error", `The request ${where} is invalid.`, { errors });
}

/** Zod's message, except for a number written with a fraction or an exponent (strict-json.ts). */
function messageOf(issue: z.core.$ZodIssue, root: unknown): string {
  let input: unknown = root;
  for (const key of issue.path) input = (input as Record<PropertyKey, unknown> | undefined)?.[key];
  if (!(input instanceof NonIntegerLiteral) || issue.code !== "invalid_type") return issue.message;
  return issue.expected === "number"
    ? `must be an integer literal, without a fraction or an exponent (got ${input.source})`
    : `Invalid input: expected ${issue.expected}, received number`;
}

/** Adds every member named `__proto__` under `value` to `found`; builds a path only where one may be (a hot path). */
function reservedNames(value: unknown, path: string[], found: FieldError[] = []): FieldError[] {
  if (!value || typeof value !== "object") return found;
  const isArray = Array.isArray(value);
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const child = (value as Record<string, unknown>)[key];
    const reserved = key === "__proto__" && !isArray;
    if (!reserved && (!child || typeof child !== "object")) continue;
    const here = [...path, key];
    if (reserved) found.push({ path: here.join("."), message: "__proto__ is a reserved name" });
    reservedNames(child, here, found);
  }
  return found;
}
