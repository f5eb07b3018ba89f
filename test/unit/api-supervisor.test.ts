import { describe, expect, it } from "vitest";
import { restartDelayMs } from "../../api/api-supervisor.ts";

describe("restartDelayMs", () => {
  it("restarts a first death quickly, then doubles with each death in a row up to 30 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map(restartDelayMs)).toEqual([
      250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    expect(restartDelayMs(1_000)).toBe(30_000);
  });
});
