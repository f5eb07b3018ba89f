import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bpcharArray,
  int4Array,
  int8Array,
  jsonbArray,
  newIdArray,
  textArray,
  uuidArray,
} from "../../shared/db/binary-array.ts";
import { PG_SERVER_URL } from "../helpers/services.ts";

/**
 * The binary array parameters (shared/db/binary-array.ts) arrive as the same values the text
 * form gave: each encoder's buffer, bound to `$1::T[]`, against the same values bound as text
 * (node-postgres's own array literal), compared by Postgres itself. No table is touched.
 */

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: PG_SERVER_URL });
  await client.connect();
});
afterAll(async () => client?.end());

/** Postgres's answers for `$1::type` (binary) and `$2::type` (text): whether they are equal, and the binary one as text. */
async function bothWays(type: string, binary: Buffer, text: unknown[]) {
  const r = await client.query<{ same: boolean; got: string | null; n: number | null }>({
    // Named: bound a second time with the plan cached, as the product's statements are.
    name: `binary-array-${type}`,
    text: `SELECT $1::${type} IS NOT DISTINCT FROM $2::${type} AS same, $1::${type}::text AS got,
                  cardinality($1::${type}) AS n`,
    values: [binary, text],
  });
  return r.rows[0];
}

const uuids = [
  "0190f5b4-7c1e-7a2b-8c3d-4e5f60718293",
  null,
  "FFFFFFFF-0000-4000-A000-00000000000a",
  "01234567-89ab-cdef-ABCD-EFabcdefABCD",
];

describe("binary array parameters", () => {
  it("uuid[]: canonical ids in either case, nulls, empty", async () => {
    for (const values of [uuids, [], [null]]) {
      const r = await bothWays("uuid[]", uuidArray(values), values);
      expect(r).toMatchObject({ same: true, n: values.length });
    }
    expect((await bothWays("uuid[]", uuidArray(uuids), uuids))?.got).toBe(
      "{0190f5b4-7c1e-7a2b-8c3d-4e5f60718293,NULL,ffffffff-0000-4000-a000-00000000000a,01234567-89ab-cdef-abcd-efabcdefabcd}",
    );
  });

  it("uuid[] of new ids: as many as asked, distinct v7s of this millisecond, in the order made", async () => {
    const before = Date.now();
    const r = await client.query<{ n: number; distinct: number; v7: boolean; sorted: boolean; ms: string[] }>(
      {
        text: `SELECT cardinality(a) AS n,
                    (SELECT count(DISTINCT x)::int FROM unnest(a) x) AS distinct,
                    (SELECT bool_and(substr(x::text, 15, 1) = '7' AND substr(x::text, 20, 1) IN ('8', '9', 'a', 'b')) FROM unnest(a) x) AS v7,
                    a = ARRAY(SELECT x FROM unnest(a) x ORDER BY x) AS sorted,
                    ARRAY(SELECT ('x' || substr(replace(x::text, '-', ''), 1, 12))::bit(48)::bigint::text FROM unnest(a) x) AS ms
             FROM (SELECT $1::uuid[] AS a) p`,
        values: [newIdArray(500)],
      },
    );
    expect(r.rows[0]).toMatchObject({ n: 500, distinct: 500, v7: true, sorted: true });
    for (const ms of r.rows[0]?.ms ?? []) {
      expect(Number(ms)).toBeGreaterThanOrEqual(before);
      expect(Number(ms)).toBeLessThanOrEqual(Date.now() + 1);
    }
    expect((await client.query("SELECT cardinality($1::uuid[]) AS n", [newIdArray(0)])).rows[0]).toEqual({
      n: 0,
    });
  });

  it("bigint[] and int[]: the extremes, negatives, nulls", async () => {
    const bigs = [9223372036854775807n, -9223372036854775808n, 0n, null, 9007199254740991n, -1n];
    expect(
      await bothWays(
        "bigint[]",
        int8Array(bigs),
        bigs.map((v) => v?.toString() ?? null),
      ),
    ).toMatchObject({
      same: true,
      got: "{9223372036854775807,-9223372036854775808,0,NULL,9007199254740991,-1}",
    });
    const ints = [2147483647, -2147483648, 0, null, 15];
    expect(await bothWays("int[]", int4Array(ints), ints)).toMatchObject({
      same: true,
      got: "{2147483647,-2147483648,0,NULL,15}",
    });
  });

  it("text[], char(3)[] and jsonb[]: quotes, backslashes, braces, commas, non-ASCII, empty strings", async () => {
    const texts = ['a"b\\c', "{,}", "", null, "NULL", "Zürich ✓ 𝄞", " lead and trail "];
    expect(await bothWays("text[]", textArray(texts), texts)).toMatchObject({ same: true, n: texts.length });
    const codes = ["USD", "EUR", null];
    expect(await bothWays("char(3)[]", bpcharArray(codes), codes)).toMatchObject({
      same: true,
      got: "{USD,EUR,NULL}",
    });
    const docs = [JSON.stringify({ k: 'v"\\', "ü ✓": "𝄞" }), "{}", null];
    expect(await bothWays("jsonb[]", jsonbArray(docs), docs)).toMatchObject({ same: true, n: 3 });
  });

  it("Postgres refuses an array of another element type than the parameter's", async () => {
    await expect(bothWays("text[]", uuidArray(uuids), uuids)).rejects.toThrow(/element type/);
  });
});

describe("uuidArray", () => {
  it("throws on anything but a canonical uuid, rather than sending other bytes", () => {
    for (const bad of [
      "0190f5b47c1e7a2b8c3d4e5f60718293",
      "{0190f5b4-7c1e-7a2b-8c3d-4e5f60718293}",
      "0190f5b4-7c1e-7a2b-8c3d-4e5f6071829g",
      "0190f5b4_7c1e-7a2b-8c3d-4e5f60718293",
      "0190f5b4-7c1e-7a2b-8c3d-4e5f6071829",
      "0190f5b4-7c1e-7a2b-8c3d-4e5f607182é3",
      "0190f5b4-7c1e-7a2b-8c3d-4e5f6071829\u0130",
      "0190f5b4-7c1e-7a2b-8c3d-4e5f60718 93",
    ]) {
      expect(() => uuidArray([bad]), bad).toThrow(TypeError);
    }
  });
});
