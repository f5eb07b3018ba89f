import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, partitionOf, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * How many operations a batch takes (worker/start-worker.ts): up to `BATCH_CAP` while its runner
 * is the only one of its worker process with work, up to `BATCH_CAP_SHARED` while other runners
 * of the process have work. Backlogs are accepted while no worker runs; then one worker (one
 * batch slot) applies them. A batch's operations share their `completed_at` (one instant per
 * batch, batch-repo.ts), which gives each batch's size.
 */
const CAP = 60;
const SHARED = 15;
const BACKLOG = 150;

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    batchCap: CAP,
    workerSettings: { BATCH_CAP_SHARED: String(SHARED), BATCH_CONCURRENCY: "1" },
  });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

/** A wallet in each of the two partitions. */
async function walletPerPartition(): Promise<[string, string]> {
  const byPartition = new Map<number, string>();
  while (byPartition.size < 2) {
    const id = await newWallet(api);
    const p = await partitionOf(system, id);
    if (!byPartition.has(p)) byPartition.set(p, id);
  }
  return [byPartition.get(0) as string, byPartition.get(1) as string];
}

/** Accepts `BACKLOG` top-ups of 1 into `walletId` in one bulk request. */
async function acceptBacklog(walletId: string): Promise<void> {
  const operations = Array.from({ length: BACKLOG }, () => ({
    type: "top_up",
    idempotencyKey: crypto.randomUUID(),
    walletId,
    amount: 1,
  }));
  const r = await api.post("/v1/operations/bulk", { operations });
  expect(r.status).toBe(200);
  expect(r.body.data.every((x: { status: number }) => x.status === 202)).toBe(true);
}

/** Starts a worker, waits until nothing is pending, stops it. */
async function drain(): Promise<void> {
  const worker = await system.startInProcessWorker();
  try {
    await waitAllSettled(system);
  } finally {
    await worker.stop();
    system.inProcessWorkers.splice(system.inProcessWorkers.indexOf(worker), 1);
  }
}

/** The sizes of the batches that applied top-ups into `walletId`, in commit order. */
async function batchSizes(walletId: string): Promise<number[]> {
  const r = await system.db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM operations WHERE to_wallet_id = ${walletId}
    GROUP BY completed_at ORDER BY completed_at`);
  return r.rows.map((row) => row.n);
}

/** The wallet's balance, version and entries. */
async function money(walletId: string): Promise<{ balance: string; version: string; entries: number }> {
  const r = await system.db.execute<{ balance: string; version: string; entries: number }>(sql`
    SELECT balance::text, version::text, (SELECT count(*)::int FROM entries WHERE wallet_id = ${walletId}) AS entries
    FROM wallets WHERE id = ${walletId}`);
  return r.rows[0] as { balance: string; version: string; entries: number };
}

describe("batch size", () => {
  it("a partition alone in its worker process is applied in batches of up to BATCH_CAP", async () => {
    const [wallet] = await walletPerPartition();
    await acceptBacklog(wallet);
    await drain();

    expect(await batchSizes(wallet)).toEqual([CAP, CAP, BACKLOG - 2 * CAP]);
    expect(await money(wallet)).toEqual({
      balance: String(BACKLOG),
      version: String(BACKLOG),
      entries: BACKLOG,
    });
    await expectAuditClean(system);
  });

  it("two partitions sharing the process's one batch slot take batches of up to BATCH_CAP_SHARED while both have work", async () => {
    const wallets = await walletPerPartition();
    for (const w of wallets) await acceptBacklog(w);
    await drain();

    const sizes = await Promise.all(wallets.map(batchSizes));
    for (const [i, s] of sizes.entries()) {
      expect(s.reduce((a, b) => a + b, 0)).toBe(BACKLOG);
      expect(Math.max(...s)).toBeLessThanOrEqual(CAP);
      expect(await money(wallets[i] as string)).toEqual({
        balance: String(BACKLOG),
        version: String(BACKLOG),
        entries: BACKLOG,
      });
    }
    // A runner that took a batch before the other runner started, or after it drained, was
    // alone then; in between both have work and every batch keeps to the shared cap:
    // the two backlogs hold at least 2 × (150 - 60) / 15 - 1 such batches between them.
    const shared = sizes.flat().filter((n) => n === SHARED).length;
    expect(shared).toBeGreaterThanOrEqual(2 * ((BACKLOG - CAP) / SHARED) - 1);
    await expectAuditClean(system);
  });
});
