import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunnerDeps, type RunOutcome, runPartition } from "../../worker/partition-runner.ts";
import { type Api, newClient, newWallet, partitionOf } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { runnerDeps } from "../helpers/runner.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { until } from "../helpers/throwaway.ts";

/**
 * Runners that wait for a process's batch slot together run their batches in one transaction
 * (worker/batch-slots.ts, partition-runner.ts `applyGroup`). The system runs no worker: the test
 * runs three partitions' runners itself on one slot. Partition 0's first batch holds the slot
 * while the runners of partitions 1 and 2 start, so those two wait together.
 */

let system: TestSystem;
let api: Api;
let pool: pg.Pool;
/** A client wallet in each partition. */
let wallets: string[];

beforeAll(async () => {
  system = await startSystem({ partitions: 3 });
  api = await newClient(system);
  pool = new pg.Pool({ connectionString: system.databaseUrl, max: 3 });
  const byPartition = new Map<number, string>();
  while (byPartition.size < 3) {
    const id = await newWallet(api);
    const p = await partitionOf(system, id);
    if (!byPartition.has(p)) byPartition.set(p, id);
  }
  wallets = [0, 1, 2].map((p) => byPartition.get(p) as string);
});
afterAll(async () => {
  await pool?.end();
  await system?.stop();
});

/** The completion announcements of the last {@link runThree}, as the api's waiters get them. */
let published: string[][] = [];

/** Runs partition 0, which starts partitions 1 and 2 from its first batch; `poison` fails when applied. */
async function runThree(poison?: string, cap = 50): Promise<RunOutcome[]> {
  const others: Promise<RunOutcome>[] = [];
  published = [];
  const deps: RunnerDeps = runnerDeps(pool, {
    batchCap: () => cap,
    publish: async (ids) => {
      published.push(ids);
    },
    hooks: {
      beforeBatch: async (partition) => {
        // Partition 0's first batch holds the slot: the other runners ask for it meanwhile.
        if (partition === 0 && others.length === 0) others.push(runPartition(1, deps), runPartition(2, deps));
      },
      beforeApply: (id) => {
        if (id === poison) throw new Error("simulated bug while applying");
      },
    },
  });
  const first = await runPartition(0, deps);
  return [first, ...(await Promise.all(others))];
}

/** Accepts, in each partition, three top-ups of its wallet and a transfer out of it to the next partition's. */
async function acceptWork(): Promise<string[][]> {
  const ids: string[][] = [];
  for (const [p, w] of wallets.entries()) {
    const own: string[] = [];
    for (const amount of [100, 20, 3]) own.push((await api.topUp(w, amount)).body.id);
    own.push((await api.transfer(w, wallets[(p + 1) % 3] as string, 50)).body.id);
    ids.push(own);
  }
  return ids;
}

async function outcomes(ids: string[]) {
  const r = await system.db.execute<{ id: string; status: string; code: string | null; at: string }>(
    sql`SELECT id, status, failure_code AS code, completed_at::text AS at FROM operations
        WHERE id IN ${sql.raw(`('${ids.join("','")}')`)}`,
  );
  return new Map(r.rows.map((row) => [row.id, row]));
}

async function balances(): Promise<number[]> {
  return Promise.all(wallets.map(async (w) => (await api.get(`/v1/wallets/${w}`)).body.balance as number));
}

describe("a batch of several partitions", () => {
  it("the runners that waited together apply their partitions in one transaction, each in its own order", async () => {
    const before = await balances();
    const ids = await acceptWork();
    expect(await runThree()).toEqual(["drained", "drained", "drained"]);

    const done = await outcomes(ids.flat());
    for (const id of ids.flat()) expect(done.get(id)?.status).toBe("succeeded");
    // Partition 0 alone first; then 1 and 2 together: one commit instant for both.
    const instants = ids.map((own) => new Set(own.map((id) => done.get(id)?.at)));
    expect(instants.map((s) => s.size)).toEqual([1, 1, 1]);
    expect([...(instants[1] as Set<string>)]).toEqual([...(instants[2] as Set<string>)]);
    expect([...(instants[0] as Set<string>)]).not.toEqual([...(instants[1] as Set<string>)]);
    // One announcement a batch, the two partitions' batch included.
    expect(published.map((m) => [...m].sort())).toEqual([
      [...(ids[0] as string[])].sort(),
      [...(ids[1] as string[]), ...(ids[2] as string[])].sort(),
    ]);
    // Each wallet got 123 and sent 50 and received 50.
    expect(await balances()).toEqual(before.map((b) => b + 123));
    // Each wallet's entries in its partition's order: the top-ups, then the transfer out.
    for (const [p, w] of wallets.entries()) {
      const entries = (await api.get(`/v1/wallets/${w}/entries?limit=5`)).body.data as {
        operationId: string;
        amount: number;
      }[];
      const own = entries.filter((e) => ids[p]?.includes(e.operationId)).map((e) => e.amount);
      expect(own).toEqual([-50, 3, 20, 100]);
    }
    await expectAuditClean(system);
  });

  it("a partition that filled its part of the batch runs its next batch alone: it has a backlog", async () => {
    const ids = await acceptWork();
    expect(await runThree(undefined, 2)).toEqual(["drained", "drained", "drained"]);

    const done = await outcomes(ids.flat());
    const at = (p: number, i: number) => done.get(ids[p]?.[i] as string)?.at;
    // Partitions 1 and 2 together, two operations each (their cap); then each alone.
    expect(at(1, 0)).toBe(at(2, 0));
    expect(at(1, 1)).toBe(at(2, 1));
    expect(at(1, 2)).toBe(at(1, 3));
    expect(at(2, 2)).toBe(at(2, 3));
    expect(at(1, 2)).not.toBe(at(2, 2));
    await expectAuditClean(system);
  });

  it("waits only for the first partition's oldest operation's wallets; another partition's, held elsewhere, waits for that partition's next batch", async () => {
    const before = await balances();
    const ids = await acceptWork();
    // Another transaction holds partition 2's wallet: its every operation needs it.
    const holder = await pool.connect();
    await holder.query("BEGIN");
    await holder.query("SELECT 1 FROM wallets WHERE id = $1 FOR UPDATE", [wallets[2]]);
    const running = runThree();
    try {
      // Partitions 0 and 1 apply their top-ups meanwhile: the batch of 1 and 2 did not wait.
      await until("partitions 0 and 1 applied", async () => {
        const done = await outcomes([...(ids[0] ?? []), ...(ids[1] ?? []).slice(0, 3)]);
        return [...done.values()].every((o) => o.status === "succeeded");
      });
      const held = await outcomes(ids[2] ?? []);
      expect([...held.values()].map((o) => o.status)).toEqual(["pending", "pending", "pending", "pending"]);
    } finally {
      await holder.query("COMMIT");
      holder.release();
    }
    expect(await running).toEqual(["drained", "drained", "drained"]);

    const done = await outcomes(ids.flat());
    for (const id of ids.flat()) expect(done.get(id)?.status).toBe("succeeded");
    expect(await balances()).toEqual(before.map((b) => b + 123));
    const entries = (await api.get(`/v1/wallets/${wallets[2]}/entries?limit=5`)).body.data as {
      operationId: string;
      amount: number;
    }[];
    expect(entries.filter((e) => ids[2]?.includes(e.operationId)).map((e) => e.amount)).toEqual([
      -50, 3, 20, 100,
    ]);
    await expectAuditClean(system);
  });

  it("a poison operation in it fails the whole batch; each partition's operations are then tried alone, and only the poison is set aside", async () => {
    const before = await balances();
    const ids = await acceptWork();
    const poison = ids[1]?.[1] as string; // partition 1's top-up of 20
    expect(await runThree(poison)).toEqual(["drained", "drained", "drained"]);

    const done = await outcomes(ids.flat());
    for (const id of ids.flat()) {
      expect([done.get(id)?.status, done.get(id)?.code]).toEqual(
        id === poison ? ["failed", "internal_error"] : ["succeeded", null],
      );
    }
    expect(await balances()).toEqual(before.map((b, p) => b + 123 - (p === 1 ? 20 : 0)));
    await expectAuditClean(system);
  });
});

describe("a runner that found nothing rides along the other runners' batches (BATCH_LINGER)", () => {
  /**
   * Partitions 0 and 1 on one slot, the runner of 1 started from 0's first batch. Partition 0
   * gets a new top-up in each of its first `rounds` batches, so its runner never finds nothing
   * meanwhile; partition 1 has one top-up at the start and gets another during 0's batch number
   * `late`, long after the runner of 1 found its partition empty.
   */
  async function ride(lingerTurns: number, late = 6, rounds = 12) {
    const own = [(await api.topUp(wallets[0] as string, 1)).body.id as string];
    const early = (await api.topUp(wallets[1] as string, 1)).body.id as string;
    let lateId = "";
    let batches = 0;
    let other: Promise<RunOutcome> | undefined;
    const deps: RunnerDeps = runnerDeps(pool, {
      lingerTurns,
      hooks: {
        beforeBatch: async (partition) => {
          if (partition === 0 && !other) other = runPartition(1, deps);
        },
        afterLockPending: async (partition) => {
          if (partition !== 0) return;
          batches++;
          if (batches < rounds) own.push((await api.topUp(wallets[0] as string, 1)).body.id);
          if (batches === late) lateId = (await api.topUp(wallets[1] as string, 1)).body.id;
        },
      },
    });
    const first = await runPartition(0, deps);
    expect([first, await other]).toEqual(["drained", "drained"]);
    return { own, early, late: lateId };
  }

  it("applies an operation accepted while it rides, in the same run, in one of the other partition's batches", async () => {
    const before = await balances();
    const { own, early, late } = await ride(8);

    const done = await outcomes([...own, early, late]);
    for (const id of [...own, early, late]) expect(done.get(id)?.status).toBe("succeeded");
    const instants = new Set(own.map((id) => done.get(id)?.at));
    expect(instants.has(done.get(late)?.at)).toBe(true);
    expect(await balances()).toEqual(before.map((b, p) => b + (p === 0 ? own.length : p === 1 ? 2 : 0)));
    await expectAuditClean(system);
  });

  it("without it, the runner ends once it found nothing: the late operation waits for its doorbell", async () => {
    const { early, late } = await ride(0);

    const done = await outcomes([early, late]);
    expect([done.get(early)?.status, done.get(late)?.status]).toEqual(["succeeded", "pending"]);
    // The doorbell's run applies it.
    expect(await runPartition(1, runnerDeps(pool))).toBe("drained");
    expect((await outcomes([late])).get(late)?.status).toBe("succeeded");
    await expectAuditClean(system);
  });
});
