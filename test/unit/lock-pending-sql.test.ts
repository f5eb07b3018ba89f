import { describe, expect, it } from "vitest";
import { lockPendingSql } from "../../worker/batch-repo.ts";

describe("lockPendingSql (written into the simple-protocol BEGIN of a batch)", () => {
  it("writes partition and cap in as integers", () => {
    const sql = lockPendingSql(7, 100);
    expect(sql).toContain("WHERE partition = 7 AND status = 'pending'");
    expect(sql).toContain("LIMIT 100");
    expect(sql).toContain("FOR NO KEY UPDATE");
  });

  it("refuses anything but safe integers, so nothing else can reach the SQL text", () => {
    for (const [p, cap] of [
      [1.5, 10],
      [Number.NaN, 10],
      [1, Number.POSITIVE_INFINITY],
      [2 ** 60, 10],
    ] as const) {
      expect(() => lockPendingSql(p, cap)).toThrow(/must be integers/);
    }
  });
});
