import { describe, expect, it } from "vitest";
import { XactSnapshot } from "../../shared/db/xact-snapshot.ts";

describe("XactSnapshot", () => {
  it("sees a transaction below xmin, or below xmax and not in progress (as pg_visible_in_snapshot)", () => {
    // 10 (xmin) and 15 were in progress; every transaction below 10 had ended, none from 20 on had.
    const s = XactSnapshot.parse("10:20:10,15");
    const xids = [9n, 10n, 11n, 14n, 15n, 19n, 20n, 25n];
    expect(xids.filter((xid) => s.sees(xid))).toEqual([9n, 11n, 14n, 19n]);
  });

  it("reads a snapshot with nothing in progress, and 64-bit ids", () => {
    const s = XactSnapshot.parse("4294967400:4294967400:");
    expect([s.sees(4294967399n), s.sees(4294967400n)]).toEqual([true, false]);
  });

  it("refuses anything else", () => {
    for (const text of ["", "1:2", "1:2:x", "a:b:", "1:2:3,"])
      expect(() => XactSnapshot.parse(text)).toThrow();
  });
});
