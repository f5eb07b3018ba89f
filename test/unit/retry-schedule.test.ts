import { describe, expect, it } from "vitest";
import { LEASE_MARGIN_MS, leaseMs, maxAttempts, nextRetryDelayMs } from "../../worker/retry-schedule.ts";

const DEFAULT = [5, 300, 1800, 7200, 18000, 36000, 36000];
const noJitter = () => 0;
const maxJitter = () => 0.999_999;

describe("nextRetryDelayMs", () => {
  it("follows the schedule, one delay per failed attempt, then gives up", () => {
    const delays = Array.from({ length: 9 }, (_, i) => nextRetryDelayMs(DEFAULT, i + 1, noJitter));
    expect(delays).toEqual([
      5_000,
      300_000,
      1_800_000,
      7_200_000,
      18_000_000,
      36_000_000,
      36_000_000,
      null,
      null,
    ]);
    expect(maxAttempts(DEFAULT)).toBe(8);
  });

  it("adds at most 10 % jitter, capped at 60 s, never less than the delay", () => {
    expect(nextRetryDelayMs(DEFAULT, 1, maxJitter)).toBe(5_499);
    expect(nextRetryDelayMs(DEFAULT, 2, maxJitter)).toBe(329_999);
    // 10 % of 1800 s is 180 s: the 60 s cap applies.
    expect(nextRetryDelayMs(DEFAULT, 3, maxJitter)).toBe(1_859_999);
    expect(nextRetryDelayMs(DEFAULT, 3, () => 0.5)).toBe(1_830_000);
    for (let i = 0; i < 200; i++) {
      const d = nextRetryDelayMs([1], 1) ?? -1;
      expect(d).toBeGreaterThanOrEqual(1_000);
      expect(d).toBeLessThan(1_100);
    }
  });

  it("a zero delay retries at once, without jitter", () => {
    expect(nextRetryDelayMs([0, 0], 1, maxJitter)).toBe(0);
    expect(nextRetryDelayMs([0, 0], 2, maxJitter)).toBe(0);
    expect(nextRetryDelayMs([0, 0], 3, maxJitter)).toBeNull();
    expect(maxAttempts([0, 0])).toBe(3);
  });

  it("an empty schedule means a single attempt", () => {
    expect(nextRetryDelayMs([], 1)).toBeNull();
    expect(maxAttempts([])).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses %s failed attempts", (n) => {
    expect(() => nextRetryDelayMs(DEFAULT, n)).toThrow(RangeError);
  });
});

describe("leaseMs", () => {
  it("is the attempt timeout plus a margin", () => {
    expect(leaseMs(15_000)).toBe(15_000 + LEASE_MARGIN_MS);
    expect(LEASE_MARGIN_MS).toBeGreaterThan(0);
  });
});
