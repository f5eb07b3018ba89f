import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { insertPendingMany } from "../../shared/db/operation-batch-repo.ts";
import { newId } from "../../shared/ids.ts";
import { Doorbells } from "../../shared/queues/doorbells.ts";
import { type RunnerHooks, runPartition } from "../../worker/partition-runner.ts";
import { newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { runnerDeps } from "../helpers/runner.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();
const systems: TestSystem[] = [];
afterAll(async () => Promise.all(systems.map((s) => s.stop())));

/** A's entries oldest first: [amount, balanceAfter]. */
async function chain(system: TestSystem, walletId: string): Promise<[string, string][]> {
  const r = await system.db.execute<{ amount: string; balance_after: string }>(sql`
    SELECT amount::text, balance_after::text FROM entries WHERE wallet_id = ${walletId} ORDER BY wallet_version`);
  return r.rows.map((e) => [e.amount, e.balance_after]);
}

const AMOUNTS = [30, 30, 50, 40, 1];
/** From 100: 70, 40, (50 > 40: insufficient), 0, (1 > 0: insufficient). */
const EXPECTED_CHAIN: [string, string][] = [
  ["100", "100"],
  ["-30", "70"],
  ["-30", "40"],
  ["-40", "0"],
];
const EXPECTED_STATUSES = ["succeeded", "succeeded", "failed", "succeeded", "failed"];

describe.each(REDIS_MODES.flatMap((mode) => [1, 100].map((batchCap) => ({ mode, batchCap }))))(
  "per-wallet order, batch cap $batchCap, $mode.name",
  ({ mode, batchCap }) => {
    it("applies transfers from one wallet in acceptance order, a failure in the middle included", async () => {
      const system = await startSystem({
        partitions: 4,
        batchCap,
        workerProcesses: 1,
        ...(await cluster.options(mode)),
      });
      systems.push(system);
      const api = await newClient(system);
      const a = await newWallet(api);
      const b = await newWallet(api);
      await api.settle((await api.topUp(a, 100)).body.id);

      const ids: string[] = [];
      for (const amount of AMOUNTS) {
        const r = await api.transfer(a, b, amount); // each accepted (202) before the next is sent
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      const done = await Promise.all(ids.map((id) => api.settle(id)));
      expect(done.map((o) => o.status)).toEqual(EXPECTED_STATUSES);
      expect(done[2].failure.code).toBe("insufficient_funds");
      expect(await chain(system, a)).toEqual(EXPECTED_CHAIN);
    });
  },
);

describe.each(REDIS_MODES)("doorbells held back, then rung in reverse order ($name)", (mode) => {
  it("still applies a wallet's operations in acceptance order", async () => {
    const held: number[] = [];
    const system = await startSystem({
      partitions: 4,
      batchCap: 1,
      workerProcesses: 1,
      ...(await cluster.options(mode)),
      ring: async (partitions) => {
        held.push(...partitions);
      },
    });
    systems.push(system);
    const api = await newClient(system);
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.topUp(a, 100);
    for (const amount of AMOUNTS) expect((await api.transfer(a, b, amount)).status).toBe(202);
    expect(held).toHaveLength(1 + AMOUNTS.length);

    const pending = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE status = 'pending'`,
    );
    expect(pending.rows[0]?.n).toBe(6); // nothing ran without a doorbell

    const doorbells = new Doorbells(system.redis, system.prefix, system.partitions);
    for (const p of held.reverse()) await doorbells.addJob(p);
    await waitAllSettled(system);
    await doorbells.close();

    const statuses = await system.db.execute<{ status: string }>(
      sql`SELECT status FROM operations WHERE type = 'transfer' ORDER BY seq`,
    );
    expect(statuses.rows.map((r) => r.status)).toEqual(EXPECTED_STATUSES);
    expect(await chain(system, a)).toEqual(EXPECTED_CHAIN);
  });
});

describe("an accept whose insert commits after a later one (a slow accept transaction)", () => {
  it("is still applied, before every debit of its wallet accepted after its answer", async () => {
    const system = await startSystem({ partitions: 4, workerProcesses: 1 });
    systems.push(system);
    const api = await newClient(system);
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 100)).body.id);
    const partition = (
      await system.db.execute<{ p: number }>(sql`SELECT partition AS p FROM wallets WHERE id = ${a}`)
    ).rows[0]?.p as number;

    // The slow accept takes its sequence number, then its transaction stays open (no 202 yet).
    const slowTx = await system.db.$client.connect();
    let slowId: string;
    try {
      await slowTx.query("BEGIN");
      const [inserted] = await insertPendingMany(slowTx, [
        {
          id: newId(),
          clientId: api.clientId,
          type: "transfer",
          amount: 10n,
          currency: "USD",
          fromWalletId: a,
          toWalletId: b,
          holdId: null,
          expiresInSeconds: null,
          metadata: {},
          partition,
          idempotencyKey: "slow",
          requestHash: "slow",
        },
      ]).then(({ inserted }) => [...inserted.values()]);
      slowId = inserted?.id as string;
      // A later request debiting the same wallet is accepted, committed and applied meanwhile.
      const later = await api.settle((await api.transfer(a, b, 20)).body.id);
      expect(later.status).toBe("succeeded");
      await slowTx.query("COMMIT");
    } finally {
      slowTx.release();
    }
    // Its seq is below the applied one's: no watermark may skip it. Its doorbell, as the api rings it.
    const order = await system.db.execute<{ id: string }>(
      sql`SELECT id FROM operations WHERE type = 'transfer' ORDER BY seq`,
    );
    expect(order.rows[0]?.id).toBe(slowId);
    const doorbells = new Doorbells(system.redis, system.prefix, system.partitions);
    await doorbells.ring([partition]);
    await doorbells.close();
    expect((await api.settle(slowId)).status).toBe("succeeded");
    // Accepted after the slow one was: applied after it.
    expect((await api.settle((await api.transfer(a, b, 30)).body.id)).status).toBe("succeeded");
    expect(await chain(system, a)).toEqual([
      ["100", "100"],
      ["-20", "80"],
      ["-10", "70"],
      ["-30", "40"],
    ]);
    await expectAuditClean(system);
  });
});

describe("two runners of one partition at once (a second one after a false stall)", () => {
  it("the second waits for the first's batch, then applies the rest, each operation once and in order", async () => {
    const system = await startSystem({ partitions: 1 });
    systems.push(system);
    const api = await newClient(system);
    const a = await newWallet(api);
    const b = await newWallet(api);
    for (const amount of [100, ...AMOUNTS]) {
      const accepted = amount === 100 ? await api.topUp(a, amount) : await api.transfer(a, b, amount);
      expect(accepted.status).toBe(202);
    }
    const pool = new pg.Pool({ connectionString: system.databaseUrl, max: 2 });
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked: (ids: string[]) => void = () => {};
      const firstLocked = new Promise<string[]>((resolve) => {
        locked = resolve;
      });
      const deps = (hooks?: RunnerHooks) =>
        runnerDeps(pool, { batchCap: () => 3, lingerTurns: 0, ...(hooks ? { hooks } : {}) });
      // The first runner's first batch (the top-up and two transfers) stays open until released.
      let first = true;
      const one = runPartition(
        0,
        deps({
          afterLockPending: async (_partition, ids) => {
            if (!first) return;
            first = false;
            locked(ids);
            await held;
          },
        }),
      );
      expect(await firstLocked).toHaveLength(3);
      const two = runPartition(0, deps());
      // The second runner must not take the operations after the first's batch meanwhile.
      await new Promise((r) => setTimeout(r, 300));
      const pending = await system.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM operations WHERE status = 'pending'`,
      );
      expect(pending.rows[0]?.n).toBe(1 + AMOUNTS.length);
      release();
      expect(await Promise.all([one, two])).toEqual(["drained", "drained"]);
    } finally {
      await pool.end();
    }
    const statuses = await system.db.execute<{ status: string }>(
      sql`SELECT status FROM operations WHERE type = 'transfer' ORDER BY seq`,
    );
    expect(statuses.rows.map((r) => r.status)).toEqual(EXPECTED_STATUSES);
    expect(await chain(system, a)).toEqual(EXPECTED_CHAIN);
    await expectAuditClean(system);
  });
});
