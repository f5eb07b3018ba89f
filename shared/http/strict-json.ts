/**
 * The one JSON parser of request bodies: RFC 8259 syntax, and the I-JSON (RFC 7493) rule that an
 * object never holds two members of the same name, in one pass over the text.
 *
 * `JSON.parse` cannot serve: it keeps the last of two equal names (a proxy or a log reader that
 * keeps the first would see another request than the one the ledger applies), and it turns
 * `1.0`, `1e2` or `1.00000000000000001` into integers, and rounds `4503599627370496.5`, before
 * any schema sees them. Here a number is a JavaScript number only when its literal is an
 * integer (`-?(0|[1-9][0-9]*)`); any other literal becomes a {@link NonIntegerLiteral}, which no
 * schema of the API accepts as a number, so the field that holds it gets its own 400 (in a bulk
 * item's result, not for the whole request).
 */

/** A number written with a fraction or an exponent: kept as written, never as a JavaScript number. */
export class NonIntegerLiteral {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

/** The text is not JSON, or its top level is not an object or an array. */
export class JsonSyntaxError extends Error {
  /** Offset in the text (UTF-16 code units) where parsing stopped. */
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = "JsonSyntaxError";
    this.position = position;
  }
}

/** An object of the text holds two members of the same name (compared after unescaping). */
export class DuplicateNameError extends Error {
  /** Where the repeated member is, as object keys and array indexes from the top. */
  readonly path: (string | number)[];
  constructor(path: (string | number)[]) {
    super(`the member name ${JSON.stringify(String(path.at(-1)))} appears twice in one object`);
    this.name = "DuplicateNameError";
    this.path = path;
  }
}

/** Deeper nesting than any request of the API needs is refused rather than recursed into. */
const MAX_DEPTH = 64;

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Parses a request body. The top level must be an object or an array (as body-parser's strict
 * mode). Throws {@link JsonSyntaxError} or {@link DuplicateNameError}.
 */
export function parseStrictJson(text: string): unknown {
  let i = 0;
  const path: (string | number)[] = [];

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, i);
  };
  const skipSpace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const expect = (literal: string, value: unknown): unknown => {
    if (!text.startsWith(literal, i)) fail("unexpected token");
    i += literal.length;
    return value;
  };

  const parseString = (): string => {
    i++; // the opening quote
    let out = "";
    let start = i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail("unterminated string");
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in a string");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1] ?? "";
      if (e === "u") {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const ch = ESCAPES[e];
        if (ch === undefined) fail("bad escape");
        out += ch;
        i += 2;
      }
      start = i;
    }
  };

  const parseNumber = (): number | NonIntegerLiteral => {
    const start = i;
    if (text.charCodeAt(i) === 0x2d) i++;
    const digits = (): number => {
      const from = i;
      while (text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      return i - from;
    };
    if (text.charCodeAt(i) === 0x30) i++;
    else if (digits() === 0) fail("bad number");
    let integer = true;
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (digits() === 0) fail("bad number");
      integer = false;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (digits() === 0) fail("bad number");
      integer = false;
    }
    const source = text.slice(start, i);
    return integer ? Number(source) : new NonIntegerLiteral(source);
  };

  const parseValue = (): unknown => {
    skipSpace();
    const c = text[i];
    if (c === "{") return parseObject();
    if (c === "[") return parseArray();
    if (c === '"') return parseString();
    if (c === "t") return expect("true", true);
    if (c === "f") return expect("false", false);
    if (c === "n") return expect("null", null);
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return parseNumber();
    return fail(c === undefined ? "unexpected end" : "unexpected token");
  };

  const enter = (): void => {
    if (path.length >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    i++;
    skipSpace();
  };

  const parseObject = (): Record<string, unknown> => {
    enter();
    const obj: Record<string, unknown> = {};
    if (text[i] === "}") {
      i++;
      return obj;
    }
    for (;;) {
      if (text[i] !== '"') fail("expected a member name");
      const key = parseString();
      path.push(key);
      if (Object.hasOwn(obj, key)) throw new DuplicateNameError([...path]);
      skipSpace();
      if (text[i] !== ":") fail("expected ':'");
      i++;
      const value = parseValue();
      // An own property even for "__proto__" (plain assignment would set the prototype).
      if (key === "__proto__") {
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      } else obj[key] = value;
      path.pop();
      skipSpace();
      if (text[i] === ",") {
        i++;
        skipSpace();
        continue;
      }
      if (text[i] === "}") {
        i++;
        return obj;
      }
      fail("expected ',' or '}'");
    }
  };

  const parseArray = (): unknown[] => {
    enter();
    const arr: unknown[] = [];
    if (text[i] === "]") {
      i++;
      return arr;
    }
    for (;;) {
      path.push(arr.length);
      arr.push(parseValue());
      path.pop();
      skipSpace();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        return arr;
      }
      fail("expected ',' or ']'");
    }
  };

  skipSpace();
  if (text[i] !== "{" && text[i] !== "[") fail("the body must be a JSON object or array");
  const value = parseValue();
  skipSpace();
  if (i < text.length) fail("unexpected text after the JSON value");
  return value;
}
