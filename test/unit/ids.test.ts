import { validate, version } from "uuid";
import { describe, expect, it } from "vitest";
import { isUuid, newId } from "../../shared/ids.ts";

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
});
