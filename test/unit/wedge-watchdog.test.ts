import { describe, expect, it } from "vitest";
import { WedgeWatchdog } from "../../worker/wedge-watchdog.ts";

describe("WedgeWatchdog", () => {
  const idle = () => true;

  it("replaces a partition stale with this process idle on it for the whole bound, once", () => {
    const w = new WedgeWatchdog(10_000);
    expect(w.observe([2], idle, 0)).toEqual([]);
    expect(w.observe([2], idle, 5_000)).toEqual([]);
    expect(w.observe([2], idle, 10_000)).toEqual([2]);
    // Counted afresh after a replacement.
    expect(w.observe([2], idle, 11_000)).toEqual([]);
    expect(w.observe([2], idle, 21_000)).toEqual([2]);
  });

  it("starts over when the partition is not stale, not idle here, or a runner started on it", () => {
    const w = new WedgeWatchdog(10_000);
    w.observe([1, 2, 3], idle, 0);
    w.observe([2, 3], idle, 4_000); // 1 settled
    w.observe([2, 3], (p) => p !== 3, 6_000); // this process runs 3 (or no longer owns it)
    w.started(2);
    expect(w.observe([1, 2, 3], idle, 12_000)).toEqual([]);
    expect(w.observe([1, 2, 3], idle, 22_000)).toEqual([1, 2, 3]);
  });
});
