import { describe, expect, it } from "vitest";
import { PartitionShare } from "../../worker/partition-share.ts";

describe("PartitionShare", () => {
  it("alone, a process keeps every partition", () => {
    const share = new PartitionShare(8);
    for (let i = 0; i < 8; i++) share.enter();
    expect(share.shouldHandOver()).toBe(false);
    expect(share.heldCount()).toBe(8);
  });

  it("with a second process, hands over down to ceil(partitions / processes), then keeps the rest", () => {
    const share = new PartitionShare(8);
    for (let i = 0; i < 8; i++) share.enter();
    share.setLiveWorkers(2);
    // Eight runners asking together (between their batches, before any has returned):
    const decisions = Array.from({ length: 8 }, () => share.shouldHandOver());
    expect(decisions.filter(Boolean)).toHaveLength(4);
    expect(share.heldCount()).toBe(4);
    for (const handedOver of decisions) if (handedOver) share.leave(true);
    expect(share.heldCount()).toBe(4);
    expect(share.shouldHandOver()).toBe(false);
  });

  it("rounds the share up: 16 partitions over 3 processes is 6 each at most", () => {
    const share = new PartitionShare(16);
    share.setLiveWorkers(3);
    expect(share.fairShare()).toBe(6);
    for (let i = 0; i < 7; i++) share.enter();
    expect(share.shouldHandOver()).toBe(true);
    expect(share.shouldHandOver()).toBe(false);
  });

  it("a runner that drains leaves without having been asked to", () => {
    const share = new PartitionShare(4);
    share.enter();
    share.enter();
    share.leave(false);
    expect(share.heldCount()).toBe(1);
    share.setLiveWorkers(0); // never below one: this process is alive
    expect(share.fairShare()).toBe(4);
  });
});
