import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { startRedis, type ThrowawayRedis } from "../helpers/throwaway.ts";

let redis: ThrowawayRedis;
let system: TestSystem;
let api: Api;
let wallets: string[];

beforeAll(async () => {
  redis = await startRedis();
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerProcesses: 2,
    redisUrl: redis.url,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  api = await newClient(system);
  wallets = [];
  for (let i = 0; i < 8; i++) wallets.push(await newWallet(api));
  for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
});
afterAll(async () => {
  await system?.stop();
  await redis?.stop();
});

describe("Redis faults under steady load", () => {
  it("Redis killed and restarted (AOF everysec): nothing accepted is lost or applied twice", async () => {
    const load = steadyLoad(api, wallets);
    await sleep(1_500);
    await redis.restart();
    await sleep(1_500);
    const result = await load.stop();
    const seconds = await expectRecovered(system, result);
    console.log(
      `[faults] redis restart: ${result.accepted.size} accepted, settled ${seconds.toFixed(1)} s after load stopped`,
    );
  });

  it("FLUSHALL with the workers running: doorbells, flags and queue settings come back by themselves", async () => {
    const load = steadyLoad(api, wallets);
    await sleep(1_500);
    await system.redis.flushall();
    await sleep(1_500);
    const result = await load.stop();
    const seconds = await expectRecovered(system, result);
    // The sweeper put global concurrency 1 back on every partition queue.
    for (let p = 0; p < system.partitions; p++) {
      await expect
        .poll(() => system.redis.hget(`${system.prefix}:doorbell-${p}:meta`, "concurrency"), {
          timeout: 5_000,
        })
        .toBe("1");
    }
    console.log(
      `[faults] FLUSHALL: ${result.accepted.size} accepted, settled ${seconds.toFixed(1)} s after load stopped`,
    );
  });
});
