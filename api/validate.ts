import type { z } from "zod";
import { ApiError } from "../shared/errors.ts";

/** Parses `value` with `schema`, or throws a 400 `validation_error` listing every problem. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw new ApiError("validation_error", `The request ${where} is invalid.`, { errors });
}
