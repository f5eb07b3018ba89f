import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, partitionOf } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A batch waits only for its oldest operation's wallets. Another wallet that another transaction
 * holds it does not wait for: it applies the operations that do not need it and leaves the rest
 * pending, the wallet's own and every later one that shares a wallet with those, so each wallet
 * still sees its operations in acceptance order. The next batch, whose oldest operation is then
 * one of those, waits for the wallet.
 */

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, inProcessWorker: {} });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

const balanceOf = async (walletId: string) => (await api.get(`/v1/wallets/${walletId}`)).body.balance;
const statusOf = async (operationId: string) => (await api.get(`/v1/operations/${operationId}`)).body.status;

/** The in-process worker's `billing_operations_deferred_total`. */
const deferredCount = async () =>
  sampleValue(
    await scrape(`http://127.0.0.1:${system.inProcessWorkers[0]?.metricsPort}/metrics`),
    "billing_operations_deferred_total",
  );

/** Resolves once a backend of the system's database waits for a row lock. */
async function aBatchWaitsForALock(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM wallets%'`,
    );
    if ((r.rows[0]?.n ?? 0) > 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("no batch waited for the held wallet");
}

/** Two wallets of one partition with 100 each: one bulk of their transfers is one batch. */
async function twoSourcesOfOnePartition(): Promise<[string, string]> {
  const s1 = await newWallet(api);
  let s2 = await newWallet(api);
  while ((await partitionOf(system, s2)) !== (await partitionOf(system, s1))) s2 = await newWallet(api);
  for (const w of [s1, s2])
    expect((await api.settle((await api.topUp(w, 100)).body.id)).status).toBe("succeeded");
  return [s1, s2];
}

/**
 * Another transaction holds the wallet as a batch of another partition would, until `release`
 * commits it; with `credit`, it also adds to another wallet's balance in that transaction.
 */
async function holdWallet(
  walletId: string,
  credit?: { walletId: string; amount: number },
): Promise<{ release: () => Promise<void> }> {
  const other = new pg.Client({ connectionString: system.databaseUrl });
  await other.connect();
  await other.query("BEGIN");
  await other.query("SELECT 1 FROM wallets WHERE id = $1 FOR NO KEY UPDATE", [walletId]);
  if (credit) {
    await other.query("UPDATE wallets SET balance = balance + $2 WHERE id = $1", [
      credit.walletId,
      credit.amount,
    ]);
  }
  let open = true;
  return {
    release: async () => {
      if (!open) return;
      open = false;
      await other.query("COMMIT");
      await other.end();
    },
  };
}

/** Sends transfers in one bulk request; returns their operation ids. */
async function bulkTransfers(items: { from: string; to: string; amount: number }[]): Promise<string[]> {
  const r = await api.post("/v1/operations/bulk", {
    operations: items.map((t) => ({
      type: "transfer",
      idempotencyKey: randomUUID(),
      fromWalletId: t.from,
      toWalletId: t.to,
      amount: t.amount,
    })),
  });
  expect(r.status).toBe(200);
  return r.body.data.map((d: { operation: { id: string } }) => d.operation.id);
}

describe("a wallet held by another transaction", () => {
  it("holds back only the operations that need it and those after them on their wallets; the rest are applied", async () => {
    const [s1, s2] = await twoSourcesOfOnePartition();
    const [busy, y, z] = [await newWallet(api), await newWallet(api), await newWallet(api)];
    const held = await holdWallet(busy);
    try {
      const [t0, t1, t2, t3] = (await bulkTransfers([
        { from: s2, to: y, amount: 5 },
        { from: s1, to: busy, amount: 10 },
        { from: s2, to: y, amount: 15 },
        { from: s1, to: z, amount: 95 },
      ])) as [string, string, string, string];

      // t0, the oldest, and t2 share nothing with the held wallet: applied while it is held.
      expect((await api.settle(t0)).status).toBe("succeeded");
      expect((await api.settle(t2)).status).toBe("succeeded");
      // t1 needs it, t3 debits t1's source after it: both wait, and the next batch, whose oldest
      // operation is t1, waits for the lock.
      await aBatchWaitsForALock();
      expect([await statusOf(t1), await statusOf(t3)]).toEqual(["pending", "pending"]);
      expect([await balanceOf(s1), await balanceOf(s2), await balanceOf(y)]).toEqual([100, 80, 20]);
      expect(await deferredCount()).toBe(2);

      await held.release();
      // In acceptance order on s1: t1 first (90 left), so t3 (95) finds too little.
      expect((await api.settle(t1)).status).toBe("succeeded");
      const third = await api.settle(t3);
      expect([third.status, third.failure.code]).toEqual(["failed", "insufficient_funds"]);
      expect([await balanceOf(s1), await balanceOf(busy), await balanceOf(z)]).toEqual([90, 10, 0]);
      const entries = (await api.get(`/v1/wallets/${s1}/entries`)).body.data.reverse();
      expect(entries.map((e: { amount: number }) => e.amount)).toEqual([100, -10]);
    } finally {
      await held.release();
    }
  });

  it("is waited for when the batch's oldest operation needs it, and that batch applies everything after", async () => {
    const [s1, s2] = await twoSourcesOfOnePartition();
    const [busy, y] = [await newWallet(api), await newWallet(api)];
    const deferredBefore = await deferredCount();
    const held = await holdWallet(busy);
    try {
      const [u1, u2] = (await bulkTransfers([
        { from: s1, to: busy, amount: 10 },
        { from: s2, to: y, amount: 20 },
      ])) as [string, string];
      await aBatchWaitsForALock();
      expect([await statusOf(u1), await statusOf(u2)]).toEqual(["pending", "pending"]);

      await held.release();
      expect((await api.settle(u1)).status).toBe("succeeded");
      expect((await api.settle(u2)).status).toBe("succeeded");
      expect([await balanceOf(s1), await balanceOf(busy), await balanceOf(s2), await balanceOf(y)]).toEqual([
        90, 10, 80, 20,
      ]);
      // One batch, nothing left for another.
      expect(await deferredCount()).toBe(deferredBefore);
    } finally {
      await held.release();
    }
  });

  it("takes the other wallets in the version committed while it waited, not the one it saw before", async () => {
    const [s1, s2] = await twoSourcesOfOnePartition();
    const [busy, y] = [await newWallet(api), await newWallet(api)];
    // The holder also changes y (a change that is not an operation: only this test makes one).
    const held = await holdWallet(busy, { walletId: y, amount: 5 });
    try {
      const [u1, u2] = (await bulkTransfers([
        { from: s1, to: busy, amount: 10 },
        { from: s2, to: y, amount: 20 },
      ])) as [string, string];
      // The batch's wallet statement began while y's change was uncommitted, and waits for busy.
      await aBatchWaitsForALock();
      await held.release();
      expect((await api.settle(u1)).status).toBe("succeeded");
      expect((await api.settle(u2)).status).toBe("succeeded");
      // y's credit of 20 is added to the 5 committed meanwhile, not to the 0 the statement first saw.
      expect([await balanceOf(s1), await balanceOf(busy), await balanceOf(s2), await balanceOf(y)]).toEqual([
        90, 10, 80, 25,
      ]);
      const [entry] = (await api.get(`/v1/wallets/${y}/entries`)).body.data;
      expect([entry.amount, entry.balanceAfter]).toEqual([20, 25]);
    } finally {
      await held.release();
    }
  });
});
