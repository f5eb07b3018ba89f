import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyspace } from "../../shared/queues/catalog.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startRedisCluster, type ThrowawayCluster } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * One master of a Redis Cluster stops answering (SIGSTOP: hung, not dead; a long node timeout
 * keeps the cluster from failing it meanwhile). What lives elsewhere must go on: the sweep's
 * steps run each on their own, so stale partitions on the healthy masters are still rung and
 * holds still expire; a worker process still starts.
 */

let cluster: ThrowawayCluster;
let system: TestSystem;
let api: Api;
let frozen: number | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, nodeTimeoutMs: 120_000 });
  system = await startSystem({
    partitions: 8,
    workerProcesses: 1,
    redisClusterNodes: cluster.nodes,
    workerSettings: { SWEEP_INTERVAL_MS: "300", SWEEP_GRACE_MS: "500" },
    // The api rings no doorbell: only the sweeper does.
    ring: async () => {},
  });
  api = await newClient(system);
}, 120_000);
afterAll(async () => {
  if (frozen !== undefined) cluster?.thaw(frozen);
  await system?.stop();
  await cluster?.stop();
});

describe("a Redis master that does not answer", () => {
  it("stale partitions on the other masters are rung, holds expire, and a worker starts", async () => {
    const keys = keyspace(system.prefix, true);
    const masterOf = (p: number) => cluster.masterOf(keys.dirtyKey(p));
    // A wallet whose partition's queue lives on another master than partition 0's, which hangs.
    const victim = await masterOf(0);
    let wallet: string | undefined;
    let partition = -1;
    while (wallet === undefined) {
      const w = await newWallet(api);
      partition = (
        await system.db.execute<{ p: number }>(sql`SELECT partition AS p FROM wallets WHERE id = ${w}`)
      ).rows[0]?.p as number;
      if ((await masterOf(partition)) !== victim) wallet = w;
    }
    const sink = await newWallet(api);
    await api.settle((await api.topUp(wallet, 100)).body.id);

    cluster.freeze(victim);
    frozen = victim;
    const topUp = (await api.topUp(wallet, 25)).body.id as string;
    const hold = (await api.hold(wallet, sink, 10, { expiresInSeconds: 1 })).body.id as string;
    expect((await api.settle(topUp)).status).toBe("succeeded");
    await expect
      .poll(async () => (await api.get(`/v1/operations/${hold}`)).body.hold?.status, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe("expired");
    expect((await api.get(`/v1/wallets/${wallet}`)).body).toMatchObject({ balance: 125, heldBalance: 0 });

    // A new worker process starts with the master still hung (it used to wait on it for good).
    const second = await system.spawnWorker();
    expect(second.metricsPort).toBeGreaterThan(0);

    cluster.thaw(victim);
    frozen = undefined;
    await waitAllSettled(system);
    await expectAuditClean(system);
  }, 150_000);
});
