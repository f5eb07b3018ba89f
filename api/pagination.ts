import { z } from "zod";
import { ApiError } from "../shared/errors.ts";
import type { Page } from "../shared/http/resources.ts";

/**
 * Opaque list cursors: base64url of a small JSON object naming the last item's sort key.
 * A cursor that does not decode to the expected shape is a 400, never ignored.
 */
export function encodeCursor(position: string): string {
  return Buffer.from(JSON.stringify({ after: position })).toString("base64url");
}

const cursorShape = z.strictObject({ after: z.string().min(1).max(100) });

export function decodeCursor<T>(cursor: string | undefined, value: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    // Node's decoder skips what is not base64url and stops at `=`: only a cursor that is exactly
    // the encoding of what it decodes to is one this API returned.
    const bytes = Buffer.from(cursor, "base64url");
    if (bytes.toString("base64url") !== cursor) throw new Error("not canonical base64url");
    const decoded = cursorShape.parse(JSON.parse(bytes.toString("utf8")));
    return value.parse(decoded.after);
  } catch {
    throw new ApiError("validation_error", "The cursor is malformed.", {
      errors: [{ path: "query.cursor", message: "not a cursor returned by this API" }],
    });
  }
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only says that there is a next page.
 * `examinedDownTo`: the read stopped at its budget there, having found no more than these rows
 * (a filtered page, docs/api.md): the next page starts below it, however short this one is.
 */
export function toPage<Row, T>(
  rows: Row[],
  limit: number,
  map: (r: Row) => T,
  key: (r: Row) => string,
  examinedDownTo?: string,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  let nextCursor: string | null = null;
  if (rows.length > limit && last !== undefined) nextCursor = encodeCursor(key(last));
  else if (examinedDownTo !== undefined) nextCursor = encodeCursor(examinedDownTo);
  return { data: items.map(map), nextCursor };
}
