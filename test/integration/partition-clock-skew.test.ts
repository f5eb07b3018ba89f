import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { fakeClock } from "../helpers/faketime.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Worker hosts whose clocks disagree by seconds still agree on who is alive, so every partition
 * is dealt to exactly one process. The skew is real: each worker process runs under libfaketime
 * (Debian's `faketime`), its wall clock 6 s ahead, on time, or 6 s behind.
 */

let system: TestSystem;
let api: Api;
let workers: SpawnedWorker[];

beforeAll(async () => {
  system = await startSystem({ partitions: 8 });
  api = await newClient(system);
  workers = [];
  for (const offset of ["+6s", "+0s", "-6s"]) {
    workers.push(await system.spawnWorker(fakeClock(offset)));
  }
});
afterAll(async () => system?.stop());

const assignedSum = async () => {
  const counts = await Promise.all(
    workers.map(async (w) =>
      sampleValue(await scrape(`http://127.0.0.1:${w.metricsPort}/metrics`), "billing_partitions_assigned"),
    ),
  );
  return counts.reduce((a: number, c) => a + (c ?? 0), 0);
};

describe("workers whose clocks are 6 s apart", () => {
  it("share the partitions exactly (the assigned counts sum to PARTITIONS, and stay so) and settle operations", async () => {
    await expect.poll(assignedSum, { timeout: 20_000, interval: 250 }).toBe(8);
    for (let i = 0; i < 8; i++) {
      await sleep(500);
      expect(await assignedSum()).toBe(8);
    }

    // Wallets on every partition, each topped up and transferred from: all of it settles.
    const wallets: string[] = [];
    for (let i = 0; i < 24; i++) wallets.push(await newWallet(api));
    for (const w of wallets) await api.topUp(w, 100);
    for (const [i, w] of wallets.entries())
      await api.transfer(w, wallets[(i + 1) % wallets.length] as string, 40);
    await waitAllSettled(system, 30_000);
    for (const w of wallets)
      expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 100, version: 3 });
    expect((await auditLedger(system.db)).ok).toBe(true);
    expect(system.crashes()).toEqual([]);
  });
});
