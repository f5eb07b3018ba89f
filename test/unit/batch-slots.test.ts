import { describe, expect, it } from "vitest";
import { BatchSlots, type Settled } from "../../worker/batch-slots.ts";

interface Req {
  name: string;
  alone: boolean;
  rider?: boolean;
}

/** An `execute` that records its groups and holds each until `release` is called. */
function recorder() {
  const groups: string[][] = [];
  const releases: (() => void)[] = [];
  const execute = async (group: Req[]): Promise<Settled<string>[]> => {
    groups.push(group.map((r) => r.name));
    await new Promise<void>((resolve) => releases.push(resolve));
    return group.map((r) => ({ ok: true, value: `${r.name} done` }));
  };
  const release = async () => {
    releases.shift()?.();
    await settle();
  };
  return { groups, execute, release };
}

const req = (name: string, alone = false): Req => ({ name, alone });
const rider = (name: string): Req => ({ name, alone: false, rider: true });
/** Lets every pending callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("BatchSlots: batch transactions per process, the waiting runners together", () => {
  it("runs at once while a slot is free; those that wait meanwhile leave together, each with its own result", async () => {
    const slots = new BatchSlots(1);
    const { groups, execute, release } = recorder();
    const a = slots.run(req("a"), execute);
    const b = slots.run(req("b"), execute);
    const c = slots.run(req("c"), execute);
    await settle();
    expect(groups).toEqual([["a"]]);
    await release();
    expect(await a).toBe("a done");
    expect(groups).toEqual([["a"], ["b", "c"]]);
    await release();
    expect([await b, await c]).toEqual(["b done", "c done"]);
  });

  it("runs `limit` groups at once", async () => {
    const slots = new BatchSlots(2);
    const { groups, execute, release } = recorder();
    const runs = ["a", "b", "c", "d"].map((n) => slots.run(req(n), execute));
    await settle();
    expect(groups).toEqual([["a"], ["b"]]);
    await release();
    expect(groups).toEqual([["a"], ["b"], ["c", "d"]]);
    await release();
    await release();
    expect(await Promise.all(runs)).toEqual(["a done", "b done", "c done", "d done"]);
  });

  it("never groups a request that asks to be alone: the group before it leaves without it, it leaves by itself", async () => {
    const slots = new BatchSlots(1);
    const { groups, execute, release } = recorder();
    const runs = [slots.run(req("a"), execute)];
    runs.push(slots.run(req("b"), execute), slots.run(req("x", true), execute), slots.run(req("c"), execute));
    await settle();
    for (let i = 0; i < 4; i++) await release();
    expect(groups).toEqual([["a"], ["b"], ["x"], ["c"]]);
    expect(await Promise.all(runs)).toEqual(["a done", "b done", "x done", "c done"]);
  });

  it("settles each request with its own part: one failure is that request's alone", async () => {
    const slots = new BatchSlots(1);
    const execute = async (group: Req[]): Promise<Settled<string>[]> =>
      group.map((r) =>
        r.name === "bad" ? { ok: false, error: new Error("its own") } : { ok: true, value: r.name },
      );
    const [good, bad] = [slots.run(req("good"), execute), slots.run(req("bad"), execute)];
    expect(await good).toBe("good");
    await expect(bad).rejects.toThrow("its own");
  });

  it("a group whose execute throws rejects every request of it, and the slot is free again", async () => {
    const slots = new BatchSlots(1);
    let calls = 0;
    const execute = async (): Promise<Settled<string>[]> => {
      calls++;
      if (calls === 1) throw new Error("connection lost");
      return [{ ok: true, value: "after" }];
    };
    await expect(slots.run(req("a"), execute)).rejects.toThrow("connection lost");
    expect(await slots.run(req("b"), execute)).toBe("after");
  });

  describe("riders (runners whose partitions had nothing)", () => {
    it("leave with the first request that is not a rider, at once", async () => {
      const slots = new BatchSlots(1, 60_000);
      const { groups, execute, release } = recorder();
      const runs = [slots.run(rider("r1"), execute), slots.run(rider("r2"), execute)];
      await settle();
      expect(groups).toEqual([]); // they hold the slot, waiting
      runs.push(slots.run(req("a"), execute));
      await settle();
      expect(groups).toEqual([["r1", "r2", "a"]]);
      await release();
      expect(await Promise.all(runs)).toEqual(["r1 done", "r2 done", "a done"]);
    });

    it("join a group with work that was waiting when the slot frees", async () => {
      const slots = new BatchSlots(1, 60_000);
      const { groups, execute, release } = recorder();
      const runs = [
        slots.run(req("a"), execute),
        slots.run(rider("r"), execute),
        slots.run(req("b"), execute),
      ];
      await settle();
      await release();
      expect(groups).toEqual([["a"], ["r", "b"]]);
      await release();
      expect(await Promise.all(runs)).toEqual(["a done", "r done", "b done"]);
    });

    it("with none coming, leave alone after riderWaitMs", async () => {
      const slots = new BatchSlots(1, 20);
      const { groups, execute, release } = recorder();
      const r = slots.run(rider("r"), execute);
      await settle();
      expect(groups).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(groups).toEqual([["r"]]);
      await release();
      expect(await r).toBe("r done");
      // The slot is free again: a request with work runs at once.
      const a = slots.run(req("a"), execute);
      await settle();
      expect(groups).toEqual([["r"], ["a"]]);
      await release();
      expect(await a).toBe("a done");
    });

    it("hold one slot, whatever the limit: the others stay free for work", async () => {
      const slots = new BatchSlots(2, 60_000);
      const { groups, execute, release } = recorder();
      const runs = [slots.run(rider("r1"), execute), slots.run(rider("r2"), execute)];
      runs.push(slots.run(req("a"), execute));
      runs.push(slots.run(req("b"), execute));
      await settle();
      // a took the riders' slot with them; b the other one.
      expect(groups).toEqual([["r1", "r2", "a"], ["b"]]);
      await release();
      await release();
      expect(await Promise.all(runs)).toEqual(["r1 done", "r2 done", "a done", "b done"]);
    });
  });
});
