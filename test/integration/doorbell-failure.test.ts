import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A doorbell job that fails (here: its runner throws an error it does not retry, before taking
 * any operation) leaves its partition's operations pending and the dirty flag set, so the api's
 * rings add no job for 10 s. The partition is rung again at once; it is not left to the
 * sweeper, which this system runs only every 10 minutes.
 */

let system: TestSystem;
let api: Api;
let failNext = 0;
/** Resolves the promise of the next runner that ends finding its partition empty. */
let onDrained: (() => void) | undefined;

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    workerSettings: { SWEEP_INTERVAL_MS: "600000" },
    inProcessWorker: {
      hooks: {
        beforeBatch: async () => {
          if (failNext > 0) {
            failNext--;
            throw new Error("simulated failure of a runner");
          }
        },
        afterEmptySelect: async () => onDrained?.(),
      },
    },
  });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("a failed doorbell job", () => {
  it("rings its partition again: the operations settle without the sweeper, each once", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    const drained = new Promise<void>((resolve) => {
      onDrained = resolve;
    });
    await api.settle((await api.topUp(a, 100)).body.id);
    // The top-up's runner has ended: none of its turns (one that passed beforeBatch before
    // failNext is set and reads the transfer afterwards, say) can apply the transfer.
    await drained;
    // Twice in a row: the second ring backs off, and still comes.
    failNext = 2;
    const t = (await api.transfer(a, b, 30)).body.id as string;
    const done = await api.settle(t);
    expect(failNext).toBe(0);
    expect(done.status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 70, version: 2 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 30, version: 1 });
    await expectAuditClean(system);
  });
});
