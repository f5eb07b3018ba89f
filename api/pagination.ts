import { z } from "zod";
import { ApiError } from "../shared/errors.ts";
import type { Page } from "../shared/http/resources.ts";

/**
 * Opaque list cursors: base64url of a small JSON object naming the list that returned it (its
 * path below /v1, ids included: `wallets/<id>/entries`) and the last item's sort key. A cursor
 * that does not decode to the expected shape, or that another list returned, is a 400, never
 * ignored. Cursors returned before lists were named carry no `list` and are read as before.
 */
export function encodeCursor(list: string, position: string): string {
  return Buffer.from(JSON.stringify({ list, after: position })).toString("base64url");
}

const cursorShape = z.strictObject({
  list: z.string().min(1).max(200).optional(),
  after: z.string().min(1).max(100),
});

export function decodeCursor<T>(
  list: string,
  cursor: string | undefined,
  value: z.ZodType<T>,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    // Node's decoder skips what is not base64url and stops at `=`: only a cursor that is exactly
    // the encoding of what it decodes to is one this API returned.
    const bytes = Buffer.from(cursor, "base64url");
    if (bytes.toString("base64url") !== cursor) throw new Error("not canonical base64url");
    const decoded = cursorShape.parse(JSON.parse(bytes.toString("utf8")));
    if (decoded.list !== undefined && decoded.list !== list) throw new Error("another list's cursor");
    return value.parse(decoded.after);
  } catch {
    throw new ApiError("validation_error", "The cursor is malformed.", {
      errors: [{ path: "query.cursor", message: "not a cursor this list returned" }],
    });
  }
}

/**
 * Builds a page of `list` from `limit + 1` fetched rows: the extra row only says that there is a
 * next page.
 * `examinedDownTo`: the read stopped at its budget there, having found no more than these rows
 * (a filtered page, docs/api.md): the next page starts below it, however short this one is.
 */
export function toPage<Row, T>(
  list: string,
  rows: Row[],
  limit: number,
  map: (r: Row) => T,
  key: (r: Row) => string,
  examinedDownTo?: string,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  let nextCursor: string | null = null;
  if (rows.length > limit && last !== undefined) nextCursor = encodeCursor(list, key(last));
  else if (examinedDownTo !== undefined) nextCursor = encodeCursor(list, examinedDownTo);
  return { data: items.map(map), nextCursor };
}
