import { describe, expect, it } from "vitest";
import { CoalescingLoader } from "../../api/services/coalescing-loader.ts";

/** A loader over a fake table whose statements the test releases by hand. */
function fake(opts: { chunk?: number; maxInFlight?: number } = {}) {
  const table = new Map([
    ["a", 1],
    ["b", 2],
    ["c", 3],
  ]);
  const calls: string[][] = [];
  const release: (() => void)[] = [];
  let fail = false;
  const loader = new CoalescingLoader<string, number>({
    ...opts,
    scope: (k) => k,
    loadMany: async (keys) => {
      calls.push(keys);
      await new Promise<void>((r) => release.push(r));
      if (fail) throw new Error("database unavailable");
      return new Map(keys.flatMap((k) => (table.has(k) ? [[k, table.get(k) ?? 0] as const] : [])));
    },
  });
  const turn = () => new Promise((r) => setImmediate(r));
  return {
    loader,
    calls,
    turn,
    failNext: () => {
      fail = true;
    },
    /** Lets every statement started so far finish. */
    releaseAll: async () => {
      for (const r of release.splice(0)) r();
      // One turn for the callers, one for the next statement to be scheduled.
      await turn();
      await turn();
    },
  };
}

describe("CoalescingLoader", () => {
  it("reads the keys of one turn with one statement, each key once, unknown keys undefined", async () => {
    const f = fake();
    const results = Promise.all(["a", "b", "a", "zz"].map((k) => f.loader.load(k)));
    await f.turn();
    expect(f.calls).toEqual([["a", "b", "zz"]]);
    await f.releaseAll();
    expect(await results).toEqual([1, 2, 1, undefined]);
  });

  it("keeps at most maxInFlight statements; keys asked meanwhile leave together in the next", async () => {
    const f = fake({ maxInFlight: 1 });
    const first = f.loader.load("a");
    await f.turn();
    const later = Promise.all(["b", "c", "b"].map((k) => f.loader.load(k)));
    await f.turn();
    expect(f.calls).toEqual([["a"]]);
    await f.releaseAll();
    expect(await first).toBe(1);
    expect(f.calls).toEqual([["a"], ["b", "c"]]);
    await f.releaseAll();
    expect(await later).toEqual([2, 3, 2]);
  });

  it("splits a large turn into statements of at most `chunk` keys", async () => {
    const f = fake({ chunk: 2, maxInFlight: 2 });
    const results = Promise.all(["a", "b", "c"].map((k) => f.loader.load(k)));
    await f.turn();
    expect(f.calls).toEqual([["a", "b"], ["c"]]);
    await f.releaseAll();
    expect(await results).toEqual([1, 2, 3]);
  });

  it("rejects every caller of a failed statement, and the next statement starts afresh", async () => {
    const f = fake();
    f.failNext();
    const failed = Promise.allSettled(["a", "b"].map((k) => f.loader.load(k)));
    await f.turn();
    await f.releaseAll();
    expect((await failed).map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(f.calls).toEqual([["a", "b"]]);
  });
});
