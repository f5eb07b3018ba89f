import { describe, expect, it } from "vitest";
import { backoffMs, retrying } from "../../shared/retry.ts";

describe("backoffMs", () => {
  it("doubles from the first pause and stops at the cap; jitter only shortens", () => {
    const b = { firstMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffMs(n, b))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    for (let i = 0; i < 100; i++) {
      const p = backoffMs(3, { ...b, jitter: 0.5 });
      expect(p).toBeGreaterThanOrEqual(200);
      expect(p).toBeLessThanOrEqual(400);
    }
  });
});

describe("retrying", () => {
  it("tries again while asked, then returns; rethrows when told not to", async () => {
    let calls = 0;
    const seen: number[] = [];
    const value = await retrying(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`fail ${calls}`);
        return "ok";
      },
      { firstMs: 1, maxMs: 2 },
      (_err, failures) => {
        seen.push(failures);
        return true;
      },
    );
    expect([value, calls, seen]).toEqual(["ok", 3, [1, 2]]);
    await expect(
      retrying(
        async () => {
          throw new Error("permanent");
        },
        { firstMs: 1, maxMs: 1 },
        () => false,
      ),
    ).rejects.toThrow("permanent");
  });
});
