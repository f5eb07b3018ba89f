import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DuplicateNameError,
  JsonSyntaxError,
  NonIntegerLiteral,
  parseStrictJson,
} from "../../shared/http/strict-json.ts";

/** What parseStrictJson should make of a value JSON.stringify wrote: numbers by their literal. */
function expected(v: unknown): unknown {
  if (typeof v === "number") {
    const literal = JSON.stringify(v);
    return /^-?\d+$/.test(literal) ? v : new NonIntegerLiteral(literal);
  }
  if (Array.isArray(v)) return v.map(expected);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      Object.defineProperty(out, k, {
        value: expected(x),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

const container = fc.oneof(
  fc.array(fc.jsonValue()),
  fc.dictionary(fc.string({ unit: "grapheme" }), fc.jsonValue()),
);

describe("parseStrictJson", () => {
  it("reads what JSON.stringify writes as JSON.parse does, numbers aside", () => {
    fc.assert(
      fc.property(container, (v) => {
        const text = JSON.stringify(v);
        expect(parseStrictJson(text)).toEqual(expected(JSON.parse(text)));
      }),
    );
  });

  it("accepts no text that JSON.parse refuses", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json().map((s) => s.slice(0, -1)),
          fc.json(),
        ),
        (text) => {
          let strict: unknown;
          try {
            strict = parseStrictJson(text);
          } catch (err) {
            expect(err instanceof JsonSyntaxError || err instanceof DuplicateNameError).toBe(true);
            return;
          }
          expect(() => JSON.parse(text)).not.toThrow();
          expect(strict).toBeTypeOf("object");
        },
      ),
    );
  });

  it("keeps integer literals as numbers and any other literal as written", () => {
    expect(parseStrictJson('{"a":100,"b":-3,"c":0}')).toEqual({ a: 100, b: -3, c: 0 });
    for (const literal of ["1.0", "1e2", "1E+2", "-0.5", "1.00000000000000001", "4503599627370496.5"]) {
      expect(parseStrictJson(`[${literal}]`)).toEqual([new NonIntegerLiteral(literal)]);
    }
  });

  it("refuses a repeated member name, escaped spellings included, and says where", () => {
    const where = (text: string) => {
      try {
        parseStrictJson(text);
      } catch (err) {
        if (err instanceof DuplicateNameError) return err.path;
        throw err;
      }
      return undefined;
    };
    expect(where('{"amount":5,"amount":7}')).toEqual(["amount"]);
    expect(where('{"amount":5,"am\\u006funt":7}')).toEqual(["amount"]);
    expect(where('{"a":[{"x":1},{"m":{"k":"1","\\u006b":"2"}}]}')).toEqual(["a", 1, "m", "k"]);
    expect(where('{"a":{"k":1},"b":{"k":1}}')).toBeUndefined();
    // Names the prototype has are names like any other: once is fine, twice is not.
    expect(where('{"toString":1,"constructor":2,"hasOwnProperty":3,"valueOf":4}')).toBeUndefined();
    expect(where('{"constructor":1,"constructor":2}')).toEqual(["constructor"]);
    expect(where('{"__proto__":1,"__proto__":2}')).toEqual(["__proto__"]);
  });

  it("keeps __proto__ as an own member, never as the prototype", () => {
    const v = parseStrictJson('{"__proto__":{"polluted":"yes"}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["a scalar at the top", "5"],
    ["a string at the top", '"x"'],
    ["trailing text", "{} x"],
    ["a trailing comma", '{"a":1,}'],
    ["a leading zero", "[01]"],
    ["a raw control character", '["a\nb"]'],
    ["a bad escape", '["\\x"]'],
    ["an unterminated string", '["abc'],
    ["nesting past 64 levels", `${"[".repeat(65)}${"]".repeat(65)}`],
  ])("refuses %s", (_, text) => {
    expect(() => parseStrictJson(text)).toThrow(JsonSyntaxError);
  });

  it("accepts 64 levels of nesting", () => {
    expect(() => parseStrictJson(`${"[".repeat(64)}${"]".repeat(64)}`)).not.toThrow();
  });
});
