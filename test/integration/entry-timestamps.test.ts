import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, partitionOf } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * An entry's `createdAt` agrees with its posting order (docs/api.md: `balance?at=` counts the entries
 * at or before an instant). Two batches contend for one wallet, and the one that began first
 * takes the wallet's lock last: its entries must still be stamped after the other's.
 */

let system: TestSystem;
let api: Api;
/** The operation whose batch is held open (after BEGIN, before its wallet locks) until released. */
let holdId: string | undefined;
let holding: { reached: () => void; release: Promise<void> } | undefined;

beforeAll(async () => {
  system = await startSystem({
    partitions: 4,
    // Two batch transactions at once in the one worker: the held one and the other. No runner
    // lingers: one lingering after its top-up would ride the held batch and be held with it.
    workerSettings: { BATCH_CONCURRENCY: "2", BATCH_LINGER: "0" },
    inProcessWorker: {
      hooks: {
        afterLockPending: async (_partition, ids) => {
          if (holding && holdId && ids.includes(holdId)) {
            const h = holding;
            holding = undefined;
            h.reached();
            await h.release;
          }
        },
      },
    },
  });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("entries are stamped when they are posted", () => {
  it("a batch that began first but locked the wallet last stamps its entries after the other's", async () => {
    const dest = await newWallet(api);
    const s1 = await newWallet(api);
    let s2 = await newWallet(api);
    while ((await partitionOf(system, s2)) === (await partitionOf(system, s1))) s2 = await newWallet(api);
    for (const w of [s1, s2]) await api.settle((await api.topUp(w, 100)).body.id);

    let reached!: () => void;
    const atHook = new Promise<void>((r) => {
      reached = r;
    });
    let release!: () => void;
    holding = {
      reached,
      release: new Promise<void>((r) => {
        release = r;
      }),
    };
    const first = await api.transfer(s1, dest, 10);
    holdId = first.body.id;
    // The first batch sits inside its transaction, begun, its wallets not yet locked; the
    // second begins later, locks `dest`, posts and commits.
    await atHook;
    const second = await api.settle((await api.transfer(s2, dest, 20)).body.id);
    expect(second.status).toBe("succeeded");
    release();
    expect((await api.settle(first.body.id)).status).toBe("succeeded");

    const entries = (await api.get(`/v1/wallets/${dest}/entries`)).body.data.reverse();
    expect(entries.map((e: { amount: number }) => e.amount)).toEqual([20, 10]);
    expect(entries.map((e: { balanceAfter: number }) => e.balanceAfter)).toEqual([20, 30]);
    const [older, newer] = entries.map((e: { createdAt: string }) => Date.parse(e.createdAt));
    expect(newer).toBeGreaterThanOrEqual(older as number);
    // And the operation's completion is no earlier than its entries.
    const firstDone = await api.get(`/v1/operations/${first.body.id}`);
    expect(Date.parse(firstDone.body.completedAt)).toBeGreaterThanOrEqual(newer as number);
  });
});
