import { describe, expect, it } from "vitest";
import { AddressFailures } from "../../api/services/address-failures.ts";
import { GenerationalMap } from "../../api/services/generational-map.ts";

describe("GenerationalMap", () => {
  it("never holds more than its limit, however many keys pass through it", () => {
    const m = new GenerationalMap<number, string>(10);
    for (let i = 0; i < 1_000; i++) {
      m.set(i, `v${i}`);
      expect(m.size).toBeLessThanOrEqual(10);
    }
    // The newest keys are still there; the oldest are gone.
    expect(m.get(999)).toBe("v999");
    expect(m.get(0)).toBeUndefined();
  });

  it("keeps an entry that is read, and forgets one that is not, a generation later", () => {
    const m = new GenerationalMap<string, number>(6); // generations of 3
    m.set("read", 1);
    m.set("unread", 2);
    m.set("x", 3); // the young generation is full: all three are now old
    m.set("a", 4);
    expect(m.get("read")).toBe(1); // moves back to the young generation
    m.set("b", 5); // the young one is full again: the generation that held "unread" is dropped
    expect(m.get("read")).toBe(1);
    expect(m.get("unread")).toBeUndefined();
    expect(m.get("x")).toBeUndefined();
    expect(m.size).toBeLessThanOrEqual(6);
  });

  it("counts a key once, whichever generation held it", () => {
    const m = new GenerationalMap<string, number>(4);
    m.set("k", 1);
    m.set("x", 2); // both old now
    m.set("k", 3); // set again: young only
    expect(m.size).toBe(2);
    expect(m.get("k")).toBe(3);
  });

  it("refuses a limit that leaves no room for two generations", () => {
    expect(() => new GenerationalMap(1)).toThrow(RangeError);
  });
});

describe("AddressFailures over many addresses", () => {
  it("still blocks an address past its limit while a flood from other addresses passes through", () => {
    const failures = new AddressFailures({ limit: 3, windowMs: 60_000, maxAddresses: 100 });
    const now = 1_000_000;
    for (let i = 0; i < 3; i++) failures.fail("10.0.0.1", now);
    expect(failures.blockedFor("10.0.0.1", now)).toBe(60);
    for (let i = 0; i < 10_000; i++) {
      failures.fail(`10.1.${i >> 8}.${i & 255}`, now);
      // The blocked address is asked about on each of its requests, which keeps its window.
      if (i % 10 === 0) expect(failures.blockedFor("10.0.0.1", now)).toBe(60);
    }
    // One failure each: none of the flood's addresses is blocked.
    expect(failures.blockedFor("10.1.0.1", now)).toBe(0);
  });
});
