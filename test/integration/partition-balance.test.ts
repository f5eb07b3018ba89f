import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, walletsInEveryPartition } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { type Sample, sampleValue, scrape } from "../helpers/metrics.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();

describe.each(REDIS_MODES)("partition balance ($name)", (mode) => {
  let system: TestSystem;
  let api: Api;
  let wallets: string[];

  beforeAll(async () => {
    // One batch transaction at a time per process and small batches: under a steady load every
    // partition stays busy, so no partition's job ever completes on its own (the sticky case).
    system = await startSystem({
      partitions: 8,
      batchCap: 10,
      workerSettings: { BATCH_CONCURRENCY: "1" },
      ...(await cluster.options(mode)),
    });
    api = await newClient(system);
    // Wallets in every partition, so the worker that joins has work in whichever it is dealt; six
    // per partition on average, so that on a busy machine no partition's runner drains and ends
    // between two of its loops' requests when the second worker joins (with 16, one CI run saw
    // the first worker's partitions dealt away while none of their runners ran: no hand-over).
    wallets = await walletsInEveryPartition(system, api, 48);
    for (const w of wallets) await api.topUp(w, 1_000_000);
  });
  afterAll(async () => system?.stop());

  const metricsOf = (w: SpawnedWorker): Promise<Sample[]> =>
    scrape(`http://127.0.0.1:${w.metricsPort}/metrics`);
  const sum = (samples: Sample[], name: string): number =>
    samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

  describe("partitions spread over worker processes (the roster in Redis)", () => {
    it("a worker that joins a busy deployment is dealt half the partitions: the first hands them over between batches", async () => {
      const first = await system.spawnWorker();
      const load = steadyLoad(api, wallets);
      await sleep(1_500);
      const second = await system.spawnWorker();

      // Two processes: 4 partitions dealt to each.
      const seen = async () => {
        const [a, b] = await Promise.all([metricsOf(first), metricsOf(second)]);
        return {
          firstAssigned: sampleValue(a, "billing_partitions_assigned") ?? -1,
          secondAssigned: sampleValue(b, "billing_partitions_assigned") ?? -1,
          firstHandedOver: (sampleValue(a, "billing_partition_handovers_total") ?? 0) > 0,
          secondApplies: sum(b, "billing_operations_applied_total") > 0,
        };
      };
      // Polled as a whole, so that a timeout shows what was seen last.
      await expect
        .poll(seen, { timeout: 30_000, interval: 250 })
        .toEqual({ firstAssigned: 4, secondAssigned: 4, firstHandedOver: true, secondApplies: true });
      // Stable: once dealt, partitions stay put (no handing back and forth) while the load goes on.
      const handovers = async () =>
        (sampleValue(await metricsOf(first), "billing_partition_handovers_total") ?? 0) +
        (sampleValue(await metricsOf(second), "billing_partition_handovers_total") ?? 0);
      await sleep(1_000);
      const settled = await handovers();
      await sleep(2_000);
      expect(await handovers()).toBe(settled);

      const result = await load.stop();
      // Every 202 final exactly once, the audit clean, each wallet's debits in acceptance order.
      await expectRecovered(system, result);
      expect(result.accepted.size).toBeGreaterThan(100);
    });
  });
});
