import { describe, expect, it } from "vitest";
import { partitionCap } from "../../worker/batch-cap.ts";

const caps = { cap: 1000, sharedCap: 400 };

describe("partitionCap: most operations of a partition in the next batch", () => {
  it("BATCH_CAP for the only runner of its process with work, BATCH_CAP_SHARED while others have work", () => {
    expect(partitionCap(1, true, caps)).toBe(1000);
    expect(partitionCap(1, false, caps)).toBe(400);
  });

  it("a batch of several partitions shares BATCH_CAP_SHARED out among them, at least one each", () => {
    expect(partitionCap(2, false, caps)).toBe(200);
    expect(partitionCap(7, false, caps)).toBe(57);
    expect(partitionCap(7, true, caps)).toBe(57);
    expect(partitionCap(500, false, caps)).toBe(1);
  });

  it("BATCH_CAP_SHARED above BATCH_CAP counts as BATCH_CAP", () => {
    expect(partitionCap(1, false, { cap: 60, sharedCap: 400 })).toBe(60);
    expect(partitionCap(3, false, { cap: 60, sharedCap: 400 })).toBe(20);
  });
});
