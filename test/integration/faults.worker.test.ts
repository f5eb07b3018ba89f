import type { ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;
let wallets: string[];
const workers: ChildProcess[] = [];

beforeAll(async () => {
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  workers.push(await system.spawnWorker(), await system.spawnWorker());
  api = await newClient(system);
  wallets = [];
  for (let i = 0; i < 8; i++) wallets.push(await newWallet(api));
  for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
});
afterAll(async () => system?.stop());

/** Seconds until no operation accepted before `since` is pending any more. */
async function recoverySeconds(since: Date): Promise<number> {
  const started = performance.now();
  for (;;) {
    const r = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE status = 'pending' AND created_at <= ${since.toISOString()}`,
    );
    if (r.rows[0]?.n === 0) return (performance.now() - started) / 1000;
    if (performance.now() - started > 60_000)
      throw new Error("operations accepted before the kill still pending");
    await sleep(100);
  }
}

describe("worker SIGKILLed in the middle of batches, repeatedly, under load", () => {
  it("another worker resumes each partition; every batch is wholly committed or not at all", async () => {
    const load = steadyLoad(api, wallets);
    const recoveries: number[] = [];
    for (let round = 0; round < 3; round++) {
      await sleep(1_000);
      const victim = workers.shift() as ChildProcess;
      const killedAt = new Date();
      await system.killWorker(victim);
      workers.push(await system.spawnWorker());
      recoveries.push(await recoverySeconds(killedAt));
    }
    const result = await load.stop();
    await expectRecovered(system, result);
    console.log(
      `[faults] worker SIGKILL x3: ${result.accepted.size} accepted; operations pending at each kill all final after ` +
        `${recoveries.map((s) => s.toFixed(1)).join(", ")} s`,
    );
    expect(recoveries).toHaveLength(3);
  }, 240_000);
});
