import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { startPostgres, type ThrowawayPostgres } from "../helpers/throwaway.ts";

let postgres: ThrowawayPostgres;
let system: TestSystem;
let api: Api;
let wallets: string[];

beforeAll(async () => {
  postgres = await startPostgres();
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerProcesses: 2,
    pgServerUrl: postgres.serverUrl,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  api = await newClient(system);
  wallets = [];
  for (let i = 0; i < 6; i++) wallets.push(await newWallet(api));
  for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
}, 120_000);
afterAll(async () => {
  await system?.stop();
  await postgres?.stop();
});

describe("Postgres fault under steady load", () => {
  it("Postgres crashed (immediate shutdown) and restarted: workers and api recover by themselves", async () => {
    const load = steadyLoad(api, wallets);
    await sleep(1_500);
    const crashed = performance.now();
    await postgres.restart();
    const restartedAfter = (performance.now() - crashed) / 1000;
    await sleep(2_000);
    const result = await load.stop();
    const seconds = await expectRecovered(system, result);
    console.log(
      `[faults] postgres restart (${restartedAfter.toFixed(1)} s down): ${result.accepted.size} accepted, ` +
        `settled ${seconds.toFixed(1)} s after load stopped; refused ${JSON.stringify([...result.refused])}`,
    );
  });
});
