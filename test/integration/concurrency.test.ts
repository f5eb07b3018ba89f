import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { deadlockCount } from "../../shared/db/settings-repo.ts";
import { type Api, newClient, newWallet, partitionOf, type Reply, waitAllSettled } from "../helpers/http.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        const task = tasks[i];
        if (task) results[i] = await task();
      }
    }),
  );
  return results;
}

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(REDIS_MODES.flatMap((mode) => [1, 100].map((batchCap) => ({ mode, batchCap, partitions: 4 }))))(
  "2,000 concurrent operations, two worker processes, batch cap $batchCap, $mode.name",
  ({ mode, batchCap, partitions }) => {
    let system: TestSystem;
    let alice: Api;
    let bob: Api;

    beforeAll(async () => {
      system = await startSystem({
        partitions,
        batchCap,
        workerProcesses: 2,
        ...(await cluster.options(mode)),
      });
      alice = await newClient(system, "alice");
      bob = await newClient(system, "bob");
    });
    afterAll(async () => system?.stop());

    it("conserves money and keeps every invariant, with no deadlock", async () => {
      const owners = [alice, bob];
      const wallets: { id: string; api: Api }[] = [];
      for (let i = 0; i < 20; i++) {
        const api = owners[i % 2] as Api;
        wallets.push({ id: await newWallet(api), api });
      }
      const deadlocksBefore = await deadlockCount(system.db);
      const random = rng(batchCap);
      const started = performance.now();
      const tasks = Array.from({ length: 2_000 }, () => {
        const from = wallets[Math.floor(random() * wallets.length)] as { id: string; api: Api };
        let to = wallets[Math.floor(random() * wallets.length)] as { id: string; api: Api };
        if (to.id === from.id)
          to = wallets[(wallets.indexOf(from) + 1) % wallets.length] as { id: string; api: Api };
        const amount = 1 + Math.floor(random() * 500);
        return random() < 0.3
          ? () => from.api.topUp(from.id, amount * 3)
          : () => from.api.transfer(from.id, to.id, amount);
      });
      const replies = await pool(tasks, 64);
      const acceptedMs = performance.now() - started;
      expect(replies.filter((r) => r.status !== 202)).toEqual([]);

      await waitAllSettled(system);
      const settledMs = performance.now() - started;

      const counts = await system.db.execute<{ type: string; status: string; n: number }>(sql`
      SELECT type, status, count(*)::int AS n FROM operations GROUP BY type, status ORDER BY type, status`);
      const total = counts.rows.reduce((sum, r) => sum + r.n, 0);
      expect(total).toBe(2_000);
      expect(counts.rows.filter((r) => r.status === "pending")).toEqual([]);
      // Top-ups into a wallet far from 2^53 always succeed; transfers may fail only for funds.
      const failures = await system.db.execute<{ type: string; failure_code: string; n: number }>(sql`
      SELECT type, failure_code, count(*)::int AS n FROM operations WHERE status = 'failed' GROUP BY 1, 2`);
      for (const f of failures.rows)
        expect(f).toMatchObject({ type: "transfer", failure_code: "insufficient_funds" });

      // Money conserved per currency, funding accounts included; no client balance below zero.
      const sums = await system.db.execute<{ currency: string; total: string; negatives: number }>(sql`
      SELECT currency, sum(balance)::text AS total,
             count(*) FILTER (WHERE kind = 'client' AND balance < 0)::int AS negatives
      FROM wallets GROUP BY currency`);
      expect(sums.rows).toEqual([{ currency: "USD", total: "0", negatives: 0 }]);

      // Succeeded operations have exactly two entries, failed ones none.
      const entryCounts = await system.db.execute<{ status: string; entries: number; ops: number }>(sql`
      SELECT o.status, count(e.id)::int AS entries, count(DISTINCT o.id)::int AS ops
      FROM operations o LEFT JOIN entries e ON e.operation_id = o.id GROUP BY o.status`);
      for (const row of entryCounts.rows) {
        expect(row.entries).toBe(row.status === "succeeded" ? row.ops * 2 : 0);
      }

      // Balance = sum of entries, version = count, versions without gaps, balanceAfter chains.
      const audit = await auditLedger(system.db, { pendingBoundSeconds: 0 });
      expect(audit.checks.filter((c) => c.violations > 0)).toEqual([]);
      expect(await deadlockCount(system.db)).toBe(deadlocksBefore);

      console.log(
        `[concurrency cap=${batchCap}, ${mode.name}] 2000 ops: accepted in ${Math.round(acceptedMs)} ms, all settled in ${Math.round(settledMs)} ms; ` +
          counts.rows.map((r) => `${r.type}/${r.status}=${r.n}`).join(" "),
      );
    });

    it.runIf(mode.cluster)("put the partition queues on more than one master", async () => {
      const c = await cluster.get();
      const masters = await c.masters();
      // Read on each master itself, not through the cluster client: where the keys really are.
      const queuesOn = await Promise.all(
        masters.map(async (port) => {
          const node = c.node(port);
          try {
            const [, keys] = await node.scan(
              "0",
              "MATCH",
              `${system.prefix}:{doorbell-*}:meta`,
              "COUNT",
              10_000,
            );
            return keys.length;
          } finally {
            node.disconnect();
          }
        }),
      );
      console.log(
        `[concurrency cap=${batchCap}, cluster] partition queues per master: ${queuesOn.join(", ")}`,
      );
      expect(queuesOn.reduce((a, b) => a + b, 0)).toBe(partitions);
      expect(queuesOn.filter((n) => n > 0).length).toBeGreaterThan(1);
    });
  },
);

describe("opposite-direction transfer storm across two partitions", () => {
  let system: TestSystem;
  let api: Api;

  beforeAll(async () => {
    system = await startSystem({ partitions: 8, batchCap: 20, workerProcesses: 2 });
    api = await newClient(system);
  });
  afterAll(async () => system?.stop());

  it("never deadlocks while the api keeps inserting operations that reference both wallets", async () => {
    // Two wallets whose partitions differ, so two runners lock both rows at once from either side.
    const ids: string[] = [];
    const a = await newWallet(api);
    let b = await newWallet(api);
    while ((await partitionOf(system, b)) === (await partitionOf(system, a))) b = await newWallet(api);
    ids.push(a, b);
    expect(await partitionOf(system, a)).not.toBe(await partitionOf(system, b));

    await api.settle((await api.topUp(a, 1_000_000)).body.id);
    await api.settle((await api.topUp(b, 1_000_000)).body.id);
    const deadlocksBefore = await deadlockCount(system.db);

    const tasks = Array.from({ length: 1_200 }, (_, i) => {
      if (i % 3 === 2) return () => api.topUp(i % 2 ? a : b, 7);
      return i % 2 ? () => api.transfer(a, b, 13) : () => api.transfer(b, a, 11);
    });
    const replies = await pool(tasks, 48);
    expect(replies.filter((r) => r.status >= 500)).toEqual([]);
    expect(replies.every((r) => r.status === 202)).toBe(true);
    await waitAllSettled(system);

    const statuses = await system.db.execute<{ status: string; n: number }>(
      sql`SELECT status, count(*)::int AS n FROM operations GROUP BY status`,
    );
    expect(statuses.rows).toEqual([{ status: "succeeded", n: 1_202 }]);
    const balances = await system.db.execute<{ total: string }>(
      sql`SELECT sum(balance)::text AS total FROM wallets WHERE id IN (${a}, ${b})`,
    );
    // 2,000,000 topped up first, then 400 top-ups of 7; transfers move money between the two.
    expect(balances.rows[0]?.total).toBe(String(2_000_000 + 400 * 7));
    expect((await auditLedger(system.db)).ok).toBe(true);
    expect(await deadlockCount(system.db)).toBe(deadlocksBefore);
  });
});

describe.each(REDIS_MODES)(
  "2,000 concurrent requests of every type (payouts, holds, captures, voids, refunds, bulks), two worker processes, $name",
  (mode) => {
    let system: TestSystem;
    let api: Api;

    beforeAll(async () => {
      system = await startSystem({
        partitions: 4,
        batchCap: 50,
        workerProcesses: 2,
        ...(await cluster.options(mode)),
      });
      api = await newClient(system);
    });
    afterAll(async () => system?.stop());

    it("keeps every invariant of the audit, with no deadlock", async () => {
      const wallets: string[] = [];
      for (let i = 0; i < 12; i++) wallets.push(await newWallet(api));
      for (const w of wallets) await api.settle((await api.topUp(w, 20_000)).body.id);
      const deadlocksBefore = await deadlockCount(system.db);
      const random = rng(42);
      const holds: string[] = [];
      /** Transfers and captures accepted so far: every wallet is the client's, so it received them all. */
      const refundable: string[] = [];
      const accepted = (into: string[]) => (reply: Reply) => {
        if (reply.status === 202) into.push(reply.body.id);
        return reply;
      };
      const pick = () => wallets[Math.floor(random() * wallets.length)] as string;
      const other = (w: string) =>
        wallets[(wallets.indexOf(w) + 1 + Math.floor(random() * 10)) % wallets.length] as string;
      const tasks = Array.from({ length: 2_000 }, (): (() => Promise<Reply>) => {
        const r = random();
        const from = pick();
        const amount = 1 + Math.floor(random() * 800);
        if (r < 0.05)
          // A bulk of 10 transfers and top-ups, mixed into the single requests.
          return () =>
            api.post("/v1/operations/bulk", {
              operations: Array.from({ length: 10 }, (_, i) =>
                i % 3 === 0
                  ? { type: "top_up", idempotencyKey: randomUUID(), walletId: from, amount }
                  : {
                      type: "transfer",
                      idempotencyKey: randomUUID(),
                      fromWalletId: from,
                      toWalletId: other(from),
                      amount,
                    },
              ),
            });
        if (r < 0.15) return () => api.topUp(from, amount * 2);
        if (r < 0.45) return () => api.transfer(from, other(from), amount).then(accepted(refundable));
        if (r < 0.55) return () => api.payout(from, amount);
        if (r < 0.75) return () => api.hold(from, other(from), amount).then(accepted(holds));
        // A hold, or a transfer or capture, accepted earlier in the run, chosen when the task runs.
        const which = random();
        const part = 1 + Math.floor(random() * 5);
        return () => {
          const h = holds[Math.floor(which * holds.length)];
          const o = refundable[Math.floor(which * refundable.length)];
          if (!h || !o) return api.topUp(from, amount);
          if (r < 0.86) return api.capture(h, part).then(accepted(refundable));
          return r < 0.92 ? api.void(h) : api.refund(o, part);
        };
      });
      const replies = await pool(tasks, 64);
      // Refused at once (422): a capture above its hold, a refund above its original or of one
      // not (yet) succeeded; everything else is accepted, a bulk's items too.
      const refusedAtOnce = ["amount_exceeds_hold", "amount_exceeds_refundable", "operation_not_refundable"];
      expect(
        replies.filter((x) => x.status !== 202 && x.status !== 200 && !refusedAtOnce.includes(x.body?.code)),
      ).toEqual([]);
      const bulks = replies.filter((x) => x.status === 200);
      expect(bulks.length).toBeGreaterThan(0);
      for (const b of bulks)
        expect(b.body.data.every((item: { status: number }) => item.status === 202)).toBe(true);
      await waitAllSettled(system);

      const failures = await system.db.execute<{ type: string; failure_code: string; n: number }>(sql`
      SELECT type, failure_code, count(*)::int AS n FROM operations WHERE status = 'failed' GROUP BY 1, 2 ORDER BY 1, 2`);
      const allowed: Record<string, string[]> = {
        transfer: ["insufficient_funds"],
        payout: ["insufficient_funds"],
        hold: ["insufficient_funds"],
        capture: ["hold_not_active"],
        void: ["hold_not_active"],
        refund: ["insufficient_funds", "amount_exceeds_refundable"],
      };
      for (const f of failures.rows) expect(allowed[f.type]).toContain(f.failure_code);
      const byType = await system.db.execute<{ type: string; n: number }>(sql`
      SELECT type, count(*)::int AS n FROM operations WHERE status = 'succeeded' GROUP BY type ORDER BY type`);
      // Every type happened for real.
      expect(byType.rows.map((r) => r.type)).toEqual([
        "capture",
        "hold",
        "payout",
        "refund",
        "top_up",
        "transfer",
        "void",
      ]);
      const audit = await auditLedger(system.db, { pendingBoundSeconds: 0 });
      expect(audit.checks.filter((c) => c.violations > 0)).toEqual([]);
      expect(await deadlockCount(system.db)).toBe(deadlocksBefore);
      console.log(
        `[concurrency, every type, ${mode.name}] succeeded: ${byType.rows.map((r) => `${r.type}=${r.n}`).join(" ")}; failed: ${failures.rows.map((f) => `${f.type}/${f.failure_code}=${f.n}`).join(" ")}`,
      );
    });
  },
);
