import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ApiProcess, startApiProcess } from "../helpers/api-process.ts";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("SIGTERM to a worker under load", () => {
  it("it finishes its batch and exits 0; another worker goes on; nothing is lost or stuck pending", async () => {
    const workers: SpawnedWorker[] = [await system.spawnWorker(), await system.spawnWorker()];
    const wallets: string[] = [];
    for (let i = 0; i < 8; i++) wallets.push(await newWallet(api));
    for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);

    const load = steadyLoad(api, wallets);
    const exitCodes: (number | null)[] = [];
    for (let round = 0; round < 3; round++) {
      await sleep(1_000);
      const victim = workers.shift() as SpawnedWorker;
      exitCodes.push(await system.terminateWorker(victim));
      workers.push(await system.spawnWorker());
    }
    const result = await load.stop();
    // A graceful stop is exit 0; the 20 s shutdown timeout would exit 1.
    expect(exitCodes).toEqual([0, 0, 0]);
    await expectRecovered(system, result);
    for (const w of workers) expect(await system.terminateWorker(w)).toBe(0);
  }, 180_000);
});

describe("SIGTERM to an api process", () => {
  let apiProcess: ApiProcess | undefined;
  afterAll(async () => apiProcess?.kill());

  it("answers a held ?wait= request at once with the current state, then exits 0", async () => {
    // No worker runs any more (the test above stopped them): the operation stays pending.
    const wallet = await newWallet(api);
    const op = (await api.topUp(wallet, 100, "held")).body;
    apiProcess = await startApiProcess(system);
    const base = apiProcess.baseUrl;

    const held = fetch(`${base}/v1/operations/${op.id}?wait=30`, {
      headers: { authorization: `Bearer ${api.key}` },
    });
    // Held: the process counts it as a waiting long poll.
    await vi.waitFor(
      async () => expect(sampleValue(await scrape(`${base}/metrics`), "billing_long_polls_waiting")).toBe(1),
      { timeout: 10_000, interval: 50 },
    );
    const exited = apiProcess.terminate();
    const r = await held;
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: op.id, status: "pending" });
    // Exit 0 is a stop within the bound (the 15 s shutdown timeout exits 1, the held request would
    // otherwise have waited 30 s).
    expect(await exited).toBe(0);
  });
});
