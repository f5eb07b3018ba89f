import { writeNewId } from "../ids.ts";

/**
 * Array parameters in Postgres's binary format (what `array_recv` reads), for the statements
 * that bind one array per column of hundreds of rows: the accept insert and the batch's lock
 * and write. node-postgres sends a `Buffer` parameter in binary format and anything else as
 * text; as text an array of uuids is quoted and escaped element by element in JavaScript
 * (`escapeElement`), then parsed back by `array_in` and `uuid_in`. In binary a uuid is its 16
 * bytes and an int8 its 8: half the bytes on the socket, no escaping, no text parsing
 * (docs/performance.md, "Array parameters in binary").
 *
 * Each encoder names its element type; Postgres refuses an array whose element type is not the
 * parameter's (`$1::uuid[]` takes {@link uuidArray} only). Only the one-dimensional arrays these
 * statements use, lower bound 1, SQL NULL for `null`.
 */

/** Element type OIDs (`pg_type.oid`: fixed since Postgres 8). */
const OID = { int4: 23, int8: 20, text: 25, bpchar: 1042, uuid: 2950, jsonb: 3802 } as const;

const HEADER = 20; // ndim, has-null flag, element type, then the dimension's length and lower bound

/** A header and `size` more bytes; the caller writes the elements. */
function arrayBuffer(oid: number, length: number, hasNull: boolean, size: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + size);
  buf.writeInt32BE(1, 0);
  buf.writeInt32BE(hasNull ? 1 : 0, 4);
  buf.writeInt32BE(oid, 8);
  buf.writeInt32BE(length, 12);
  buf.writeInt32BE(1, 16);
  return buf;
}

/** An array of fixed-width elements: 4 length bytes, then `width` bytes written by `write`. */
function fixedWidth<T>(
  oid: number,
  width: number,
  values: readonly (T | null | undefined)[],
  write: (buf: Buffer, at: number, value: T) => void,
): Buffer {
  let nulls = 0;
  for (const v of values) if (v == null) nulls++;
  const buf = arrayBuffer(oid, values.length, nulls > 0, values.length * 4 + (values.length - nulls) * width);
  let at = HEADER;
  for (const v of values) {
    if (v == null) {
      buf.writeInt32BE(-1, at);
      at += 4;
    } else {
      buf.writeInt32BE(width, at);
      write(buf, at + 4, v);
      at += 4 + width;
    }
  }
  return buf;
}

/** An array of variable-length elements, each its UTF-8 bytes after `prefix`. */
function variableWidth(oid: number, values: readonly (string | null | undefined)[], prefix?: number): Buffer {
  const extra = prefix === undefined ? 0 : 1;
  let size = 0;
  let hasNull = false;
  const lengths = values.map((v) => {
    if (v == null) {
      hasNull = true;
      size += 4;
      return -1;
    }
    const n = Buffer.byteLength(v, "utf8") + extra;
    size += 4 + n;
    return n;
  });
  const buf = arrayBuffer(oid, values.length, hasNull, size);
  let at = HEADER;
  values.forEach((v, i) => {
    const n = lengths[i] as number;
    buf.writeInt32BE(n, at);
    at += 4;
    if (v == null) return;
    if (prefix !== undefined) buf[at] = prefix;
    buf.write(v, at + extra, "utf8");
    at += n;
  });
  return buf;
}

/** Hex digit values by character code; -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX[i.toString(16).charCodeAt(0)] = i;
  HEX[i.toString(16).toUpperCase().charCodeAt(0)] = i;
}

/** Writes a uuid in its canonical text form (36 characters, either case) as its 16 bytes. */
function writeUuid(buf: Buffer, at: number, id: string): void {
  if (id.length !== 36) throw new TypeError("not a uuid in its canonical form");
  let byte = 0;
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (id.charCodeAt(i) !== 45) throw new TypeError("not a uuid in its canonical form");
      continue;
    }
    const hi = HEX[id.charCodeAt(i)] ?? -1;
    const lo = HEX[id.charCodeAt(++i)] ?? -1;
    if (hi < 0 || lo < 0) throw new TypeError("not a uuid in its canonical form");
    buf[at + byte++] = (hi << 4) | lo;
  }
}

/** `uuid[]`, from canonical text uuids (throws on any other form). */
export const uuidArray = (values: readonly (string | null | undefined)[]): Buffer =>
  fixedWidth(OID.uuid, 16, values, writeUuid);

/** `uuid[]` of `count` new ids ({@link writeNewId}), written as bytes: ids nothing reads back. */
export function newIdArray(count: number): Buffer {
  const buf = arrayBuffer(OID.uuid, count, false, count * 20);
  for (let at = HEADER; at < buf.length; at += 20) {
    buf.writeInt32BE(16, at);
    writeNewId(buf, at + 4);
  }
  return buf;
}

const writeInt8 = (buf: Buffer, at: number, v: bigint): void => {
  buf.writeBigInt64BE(v, at);
};
const writeInt4 = (buf: Buffer, at: number, v: number): void => {
  buf.writeInt32BE(v, at);
};

/** `bigint[]`. */
export const int8Array = (values: readonly (bigint | null | undefined)[]): Buffer =>
  fixedWidth(OID.int8, 8, values, writeInt8);

/** `int[]`. */
export const int4Array = (values: readonly (number | null | undefined)[]): Buffer =>
  fixedWidth(OID.int4, 4, values, writeInt4);

/** `text[]`. */
export const textArray = (values: readonly (string | null | undefined)[]): Buffer =>
  variableWidth(OID.text, values);

/** `char(n)[]` (`bpchar`): the text as given; Postgres pads it to the column's length. */
export const bpcharArray = (values: readonly (string | null | undefined)[]): Buffer =>
  variableWidth(OID.bpchar, values);

/** `jsonb[]`, from JSON texts (jsonb's binary form is a version byte, 1, then the text). */
export const jsonbArray = (values: readonly (string | null | undefined)[]): Buffer =>
  variableWidth(OID.jsonb, values, 1);
