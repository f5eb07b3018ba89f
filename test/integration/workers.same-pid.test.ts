import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, walletsInEveryPartition } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Two worker hosts whose workers have the same pid, as two containers' pid 1 would: each worker
 * runs in a pid namespace of its own (`unshare --pid`), so both really are pid 1, on one host
 * name. Nothing that identifies a worker may come from its pid or host: the roster ids, BullMQ's
 * worker ids and lock tokens are random UUIDs, and webhook claims are row locks in Postgres.
 */

let system: TestSystem;
let api: Api;
let workers: SpawnedWorker[];

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error("unshare --pid needs root (CI runs as root)");
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  api = await newClient(system);
  workers = [];
  for (let i = 0; i < 2; i++) workers.push(await system.spawnWorker({}, { pidNamespace: true }));
});
afterAll(async () => system?.stop());

const assigned = (w: SpawnedWorker) =>
  scrape(`http://127.0.0.1:${w.metricsPort}/metrics`).then((s) =>
    sampleValue(s, "billing_partitions_assigned"),
  );

describe("two workers with the same pid (each pid 1 of its own pid namespace)", () => {
  it("both are pid 1 in their namespace, two processes on this host, two members of the roster", async () => {
    const pids = await Promise.all(workers.map((w) => namespacePid(w)));
    expect(pids).toEqual([1, 1]);
    expect(new Set(workers.map((w) => w.workerPid)).size).toBe(2);
    await expect
      .poll(async () => (await system.redis.zrange(`${system.prefix}:workers`, "0", "-1")).length, {
        timeout: 10_000,
      })
      .toBe(2);
  });

  it("share the partitions, two each, and keep every guarantee under load", async () => {
    await expect
      .poll(async () => (await Promise.all(workers.map(assigned))).join(","), {
        timeout: 20_000,
        interval: 250,
      })
      .toBe("2,2");
    // Wallets in every partition, so each worker has work (eight random ones all fall in one
    // worker's two partitions once in 128 runs).
    const wallets = await walletsInEveryPartition(system, api, 8);
    for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
    const load = steadyLoad(api, wallets);
    await sleep(3_000);
    // Still two each: neither took the other's partitions for its own.
    expect((await Promise.all(workers.map(assigned))).join(",")).toBe("2,2");
    const result = await load.stop();
    // Every 202 final exactly once, the audit clean, each wallet's debits in acceptance order.
    await expectRecovered(system, result);
    const applied = await Promise.all(
      workers.map(async (w) =>
        (await scrape(`http://127.0.0.1:${w.metricsPort}/metrics`))
          .filter((s) => s.name === "billing_operations_applied_total")
          .reduce((a, s) => a + s.value, 0),
      ),
    );
    console.log(`[same-pid] ${result.accepted.size} accepted; applied per worker: ${applied.join(", ")}`);
    for (const n of applied) expect(n).toBeGreaterThan(0);
  });

  it("each stops gracefully on SIGTERM (exit 0)", async () => {
    for (const w of workers) expect(await system.terminateWorker(w)).toBe(0);
  });
});

/** The pid the worker has inside its namespace (the NSpid line: host view first, its own last). */
async function namespacePid(w: SpawnedWorker): Promise<number> {
  const status = await readFile(`/proc/${w.workerPid}/status`, "utf8");
  const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
  return Number(nspid.at(-1));
}
