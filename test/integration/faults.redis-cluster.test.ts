import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyspace } from "../../shared/queues/catalog.ts";
import { expectRecovered } from "../helpers/faults.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { startRedisCluster, type ThrowawayCluster } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A master of the Redis Cluster dies under load. Redis is transport here: whatever the cluster
 * loses or refuses meanwhile (doorbells, flags, job states, a roster beat), the operations are
 * in Postgres, and every one that got a 202 must end exactly once, in order.
 */

/** cluster-node-timeout of these clusters, ms: a killed master is found failed this soon. */
const FAILURE_DETECTION_MS = 2_000;

/** A system on `cluster` with two worker processes and a quick sweeper, and eight funded wallets. */
async function loadedSystem(
  cluster: ThrowawayCluster,
): Promise<{ system: TestSystem; api: Api; wallets: string[] }> {
  const system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerProcesses: 2,
    redisClusterNodes: cluster.nodes,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  const api = await newClient(system);
  const wallets: string[] = [];
  for (let i = 0; i < 8; i++) wallets.push(await newWallet(api));
  for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
  return { system, api, wallets };
}

/** The master serving partition 0's queue and flag: the one to kill. */
const masterOfPartition0 = (cluster: ThrowawayCluster, system: TestSystem) =>
  cluster.masterOf(keyspace(system.prefix, true).dirtyKey(0));

describe("a master killed under load, its replica promoted (three masters, three replicas)", () => {
  let cluster: ThrowawayCluster;
  let system: TestSystem;
  let api: Api;
  let wallets: string[];

  beforeAll(async () => {
    cluster = await startRedisCluster({
      masters: 3,
      replicasPerMaster: 1,
      nodeTimeoutMs: FAILURE_DETECTION_MS,
    });
    ({ system, api, wallets } = await loadedSystem(cluster));
  });
  afterAll(async () => {
    await system?.stop();
    await cluster?.stop();
  });

  it("nothing accepted is lost or applied twice; every 202 ends exactly once", async () => {
    const mastersBefore = await cluster.masters();
    const victim = await masterOfPartition0(cluster, system);
    const load = steadyLoad(api, wallets);
    await sleep(1_500);
    const killedAt = performance.now();
    await cluster.kill(victim);
    // The replica takes over after cluster-node-timeout (2 s here) and an election; an election
    // that a loaded machine lets time out is retried after 4 × cluster-node-timeout.
    await cluster.replaced(victim);
    await cluster.healthy();
    const failoverSeconds = (performance.now() - killedAt) / 1000;
    const mastersAfter = await cluster.masters();
    expect(mastersAfter).toHaveLength(3);
    expect(mastersAfter).not.toContain(victim);
    const promoted = mastersAfter.filter((p) => !mastersBefore.includes(p));
    expect(promoted).toHaveLength(1);
    expect(await masterOfPartition0(cluster, system)).toBe(promoted[0]);
    await sleep(1_500);
    const result = await load.stop();
    const seconds = await expectRecovered(system, result);
    console.log(
      `[faults] cluster master killed, replica promoted in ${failoverSeconds.toFixed(1)} s: ` +
        `${result.accepted.size} accepted, settled ${seconds.toFixed(1)} s after the load stopped`,
    );
  }, 150_000);
});

describe("a master killed with no replica, then restarted (three masters)", () => {
  let cluster: ThrowawayCluster;
  let system: TestSystem;
  let api: Api;
  let wallets: string[];

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, nodeTimeoutMs: FAILURE_DETECTION_MS });
    ({ system, api, wallets } = await loadedSystem(cluster));
  });
  afterAll(async () => {
    await system?.stop();
    await cluster?.stop();
  });

  it("the api keeps accepting while the cluster is down; once it is back every 202 ends exactly once", async () => {
    const started = performance.now();
    const phases: string[] = [];
    const mark = (what: string) =>
      phases.push(`${what} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const victim = await masterOfPartition0(cluster, system);
    const load = steadyLoad(api, wallets);
    await sleep(1_500);
    const before = await operationCount(system);
    await cluster.kill(victim);
    mark("killed");
    // Past cluster-node-timeout: the cluster marks the node failed and, missing its slots,
    // refuses commands (cluster-require-full-coverage yes).
    await sleep(4_000);
    const acceptedWhileDown = (await operationCount(system)) - before;
    await cluster.start(victim);
    mark("restarted");
    await cluster.healthy();
    mark("healthy");
    await sleep(1_500);
    const result = await load.stop();
    mark("load stopped");
    const seconds = await expectRecovered(system, result);
    mark("settled");
    expect(await cluster.masters()).toContain(victim);
    console.log(
      `[faults] cluster master down 4 s with no replica, restarted: ${result.accepted.size} accepted ` +
        `(${acceptedWhileDown} while it was down), settled ${seconds.toFixed(1)} s after the load stopped; ${phases.join(", ")}`,
    );
    expect(acceptedWhileDown).toBeGreaterThan(0);
  }, 150_000);
});

/** Operations in Postgres now: before and after an outage, their difference is what was accepted meanwhile. */
async function operationCount(system: TestSystem): Promise<number> {
  const r = await system.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM operations`);
  return r.rows[0]?.n ?? 0;
}
