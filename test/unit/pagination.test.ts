import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decodeCursor, encodeCursor, toPage } from "../../api/pagination.ts";
import { ApiError } from "../../shared/errors.ts";

const id = "0190f5a4-1c2b-7def-8abc-0123456789ab";
const b64 = (s: string) => Buffer.from(s).toString("base64url");
const LIST = "wallets";

/** Asserts `fn` throws a 400 validation_error naming the cursor. */
function expectMalformed(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ApiError);
  const e = thrown as ApiError;
  expect(e.code).toBe("validation_error");
  expect(e.status).toBe(400);
  expect(e.errors).toEqual([{ path: "query.cursor", message: "not a cursor this list returned" }]);
}

describe("cursors", () => {
  it("round-trip the position they were made from", () => {
    const cursor = encodeCursor(LIST, id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(LIST, cursor, z.uuid())).toBe(id);
    expect(decodeCursor(LIST, encodeCursor(LIST, "42"), z.string().regex(/^\d+$/))).toBe("42");
  });

  it("are refused by every other list, ids in the list's path included", () => {
    const entries = `wallets/${id}/entries`;
    expect(decodeCursor(entries, encodeCursor(entries, "7"), z.string())).toBe("7");
    for (const other of ["operations", "webhook-endpoints", `wallets/${id.replace("a", "b")}/entries`]) {
      expectMalformed(() => decodeCursor(other, encodeCursor(entries, "7"), z.string()));
    }
    expectMalformed(() => decodeCursor(LIST, encodeCursor("operations", id), z.uuid()));
  });

  it("returned before lists were named (no `list`) are read as before", () => {
    expect(decodeCursor(LIST, b64(JSON.stringify({ after: id })), z.uuid())).toBe(id);
  });

  it("no cursor means the first page", () => {
    expect(decodeCursor(LIST, undefined, z.uuid())).toBeUndefined();
  });

  it.each([
    ["not base64url JSON", "!!!"],
    ["base64url of text that is not JSON", b64("after=1")],
    ["JSON that is not an object", b64('"x"')],
    ["a number position", b64('{"after":1}')],
    ["an empty position", b64('{"after":""}')],
    ["a position over 100 characters", b64(JSON.stringify({ after: "1".repeat(101) }))],
    ["an extra key", b64(JSON.stringify({ after: id, more: 1 }))],
    ["an empty list", b64(JSON.stringify({ list: "", after: id }))],
    ["a list that is not a string", b64(JSON.stringify({ list: 1, after: id }))],
    ["a missing position", b64("{}")],
    ["a position the value schema refuses", encodeCursor(LIST, "not-a-uuid")],
    ["an empty string", ""],
  ])("are refused with validation_error: %s", (_what, cursor) => {
    expectMalformed(() => decodeCursor(LIST, cursor, z.uuid()));
  });

  // Node's base64url decoder skips characters outside the alphabet, stops at `=` and ignores a
  // last character's unused bits: each of these decodes to a valid cursor's position. (A
  // position of 5 characters in this list: 34 bytes of JSON, so the last character has unused bits.)
  const valid = encodeCursor(LIST, "abcde");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const sameBits = alphabet[alphabet.indexOf(valid.at(-1) as string) ^ 1] as string;
  it.each([
    ["a character outside base64url appended", `${valid}!!`],
    ["a dot appended", `${valid}.`],
    ["padding appended", `${valid}=`],
    ["anything after padding", `${valid}=anything`],
    ["a space before it", ` ${valid}`],
    ["the last character's unused bit set", `${valid.slice(0, -1)}${sameBits}`],
  ])("a returned cursor altered is refused, though it decodes the same: %s", (_what, cursor) => {
    expect(decodeCursor(LIST, valid, z.string())).toBe("abcde");
    expect(Buffer.from(cursor, "base64url").equals(Buffer.from(valid, "base64url"))).toBe(true);
    expectMalformed(() => decodeCursor(LIST, cursor, z.string()));
  });
});

describe("toPage", () => {
  const rows = ["e", "d", "c", "b", "a"].map((k) => ({ k }));
  const map = (r: { k: string }) => r.k.toUpperCase();
  const key = (r: { k: string }) => r.k;

  it("with limit + 1 rows: limit items and a cursor naming the last item shown", () => {
    const page = toPage(LIST, rows.slice(0, 3), 2, map, key);
    expect(page.data).toEqual(["E", "D"]);
    expect(page.nextCursor).not.toBeNull();
    expect(decodeCursor(LIST, page.nextCursor ?? undefined, z.string())).toBe("d");
  });

  it("with at most limit rows: the last page, no cursor", () => {
    expect(toPage(LIST, rows.slice(0, 2), 2, map, key)).toEqual({ data: ["E", "D"], nextCursor: null });
    expect(toPage(LIST, [], 20, map, key)).toEqual({ data: [], nextCursor: null });
  });
});
