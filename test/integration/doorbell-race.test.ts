import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, partitionOf } from "../helpers/http.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();

describe.each(REDIS_MODES)("the doorbell race ($name)", (mode) => {
  let system: TestSystem;
  let api: Api;
  /** Set by the test: runs once inside the runner, between its last empty select and the end of its job. */
  let duringPause: (() => Promise<void>) | undefined;
  let pauses = 0;

  beforeAll(async () => {
    system = await startSystem({
      partitions: 2,
      batchCap: 10,
      ...(await cluster.options(mode)),
      inProcessWorker: {
        hooks: {
          afterEmptySelect: async () => {
            const act = duringPause;
            duringPause = undefined;
            if (act) {
              await act();
              // Counted once the accept inside the window has answered, so the test reads its id.
              pauses++;
            }
          },
        },
      },
    });
    api = await newClient(system);
  });
  afterAll(async () => system?.stop());

  it("settles an operation accepted while the runner is between its last empty select and the end of its job", async () => {
    const a = await newWallet(api);
    // In a's partition: the race is a ring for the partition whose runner is between its empty
    // select and the end of its job (b elsewhere rings a doorbell of its own).
    let b = await newWallet(api);
    while ((await partitionOf(system, b)) !== (await partitionOf(system, a))) b = await newWallet(api);
    let acceptedDuringPause: string | undefined;
    duringPause = async () => {
      // The runner has deleted the dirty flag and found nothing; its job has not ended yet.
      const r = await api.topUp(b, 5);
      expect(r.status).toBe(202);
      acceptedDuringPause = r.body.id;
    };
    const first = await api.settle((await api.topUp(a, 10)).body.id);
    expect(first.status).toBe("succeeded");
    // The pause ran (so the second operation was accepted inside the window); no sweeper exists.
    // (`pauses` counts as the pause starts; the accept inside it may still be in flight.)
    await expect.poll(() => acceptedDuringPause).toBeDefined();
    expect(pauses).toBe(1);
    const second = await api.settle(acceptedDuringPause as string);
    expect(second.status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 5, version: 1 });
  });
});
