import { describe, expect, it } from "vitest";
import { PartitionAssignment } from "../../worker/partition-assignment.ts";

const owned = (a: PartitionAssignment, partitions: number): number[] =>
  Array.from({ length: partitions }, (_, p) => p).filter((p) => a.owns(p));

describe("PartitionAssignment", () => {
  it("alone (or before its first heartbeat), a process runs every partition", () => {
    const a = new PartitionAssignment(8, "b");
    expect(a.ownedCount()).toBe(8);
    expect(a.update(["b"])).toBe(false);
    expect(owned(a, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("deals partitions round-robin over the sorted ids: every partition has exactly one owner", () => {
    const ids = ["c", "a", "b"];
    const all = ids.map((id) => {
      const a = new PartitionAssignment(16, id);
      a.update(ids);
      return a;
    });
    expect(all.map((a) => a.ownedCount()).sort()).toEqual([5, 5, 6]);
    for (let p = 0; p < 16; p++) expect(all.filter((a) => a.owns(p))).toHaveLength(1);
    expect(owned(all[1] as PartitionAssignment, 16)).toEqual([0, 3, 6, 9, 12, 15]); // "a" sorts first
  });

  it("reports a change only when this process's share changed", () => {
    const a = new PartitionAssignment(8, "a");
    expect(a.update(["a", "b"])).toBe(true);
    expect(owned(a, 8)).toEqual([0, 2, 4, 6]);
    expect(a.update(["b", "a", "a"])).toBe(false);
    expect(a.update(["a"])).toBe(true); // b left: a takes everything back
    expect(a.ownedCount()).toBe(8);
  });

  it("a process missing from the roster (Redis flushed) runs everything rather than nothing", () => {
    const a = new PartitionAssignment(4, "a");
    a.update(["a", "b"]);
    expect(a.update(["b"])).toBe(true);
    expect(a.ownedCount()).toBe(4);
  });
});
