import { describe, expect, it } from "vitest";
import { shareOut } from "../../api/middleware/rate-limit.ts";

const allowed = (shares: { allowed: boolean }[]) => shares.map((s) => s.allowed);

describe("shareOut: one consume of n points answered as n consumes of one", () => {
  it("all within the window: remaining counts down in arrival order", () => {
    const shares = shareOut(10, 3, { consumedPoints: 5, msBeforeNext: 700 });
    expect(shares).toEqual([
      { allowed: true, remainingPoints: 7, msBeforeNext: 700 },
      { allowed: true, remainingPoints: 6, msBeforeNext: 700 },
      { allowed: true, remainingPoints: 5, msBeforeNext: 700 },
    ]);
  });

  it("crossing the limit: the first ones fit, the rest are refused with nothing remaining", () => {
    const shares = shareOut(10, 4, { consumedPoints: 12, msBeforeNext: 1 });
    expect(allowed(shares)).toEqual([true, true, false, false]);
    expect(shares.map((s) => s.remainingPoints)).toEqual([1, 0, 0, 0]);
  });

  it("already over the limit: every one refused", () => {
    expect(allowed(shareOut(10, 2, { consumedPoints: 30, msBeforeNext: 1 }))).toEqual([false, false]);
  });

  it("refused from memory (nothing counted, consumedPoints 0): every one refused", () => {
    expect(allowed(shareOut(10, 3, { consumedPoints: 0, msBeforeNext: 900 }))).toEqual([false, false, false]);
  });
});
