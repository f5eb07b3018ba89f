import { v7, validate, version } from "uuid";
import { describe, expect, it } from "vitest";
import { isUuid, newId, writeNewId } from "../../shared/ids.ts";

describe("newId", () => {
  it("makes distinct UUIDv7s that sort in the order they were made, across many random-pool refills", () => {
    const ids = Array.from({ length: 5_000 }, newId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(validate(id) && isUuid(id)).toBe(true);
      expect(version(id)).toBe(7);
      expect(id[19]).toMatch(/[89ab]/); // the RFC 9562 variant
    }
    expect([...ids].sort()).toEqual(ids);
  });

  it("carries the current time in its first 48 bits", () => {
    const before = Date.now();
    const id = newId();
    const ms = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now() + 1);
  });

  it("keeps the uuid package's v7 layout: it rebuilds each id from its fields, and ids of one millisecond count up by one", () => {
    let last = { msecs: -1, seq: 0 };
    let counted = 0;
    for (const id of Array.from({ length: 2_000 }, newId)) {
      const b = Buffer.from(id.replaceAll("-", ""), "hex");
      const msecs = b.readUIntBE(0, 6);
      const seq =
        ((((b[6] as number) & 0x0f) << 28) |
          ((b[7] as number) << 20) |
          (((b[8] as number) & 0x3f) << 14) |
          ((b[9] as number) << 6) |
          ((b[10] as number) >>> 2)) >>>
        0;
      const random = new Uint8Array(16);
      random.set(b.subarray(10), 10);
      expect(v7({ msecs, seq, random })).toBe(id);
      if (msecs === last.msecs) {
        expect(seq).toBe((last.seq + 1) >>> 0);
        counted++;
      }
      last = { msecs, seq };
    }
    expect(counted).toBeGreaterThan(0);
  });

  it("writes the same ids as bytes, on the same clock: bytes and text interleaved still sort in order", () => {
    const buf = Buffer.alloc(16 * 3);
    const ids: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      ids.push(newId());
      writeNewId(buf, 16);
      const hex = buf.toString("hex", 16, 32);
      ids.push(
        `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      );
    }
    expect(buf.subarray(0, 16).every((x) => x === 0) && buf.subarray(32).every((x) => x === 0)).toBe(true);
    for (const id of ids) expect(version(id)).toBe(7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
