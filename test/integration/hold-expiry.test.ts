import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { expiredHolds, expiryKey, MAX_EXPIRY_ATTEMPTS } from "../../shared/db/hold-facts-repo.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { explainedSession, nodesOf, type PlanNode } from "../helpers/plans.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Hold expiry goes on whatever one partition does: holds whose expiry void waits behind a
 * stalled partition do not keep others from expiring, and a hold whose expiry void failed is
 * voided again under a new key. An in-process worker with two batch slots and a sweeper every
 * 200 ms; a test hook stalls one partition's runner, or makes one void poison.
 */

let system: TestSystem;
let api: Api;
/** While set, the runner of this partition waits in its next batch until {@link release}. */
let stalled: number | undefined;
let release: () => void = () => {};
const poison = new Set<string>();
/** Partitions whose runner is running (from a turn's start to the select that found it drained). */
const running = new Set<number>();

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    workerSettings: { SWEEP_INTERVAL_MS: "200", BATCH_CONCURRENCY: "2" },
    inProcessWorker: {
      hooks: {
        beforeBatch: async (partition) => {
          running.add(partition);
          if (partition === stalled) await new Promise<void>((resolve) => (release = resolve));
        },
        afterEmptySelect: async (partition) => {
          running.delete(partition);
        },
        beforeApply: (id) => {
          if (poison.has(id)) throw new Error("simulated bug while applying an expiry void");
        },
      },
    },
  });
  api = await newClient(system);
});
afterAll(async () => {
  release();
  await system?.stop();
});

/** A funded wallet in each partition. */
async function walletsByPartition(): Promise<[string, string]> {
  const found = new Map<number, string>();
  while (found.size < 2) {
    const w = await newWallet(api);
    const p = (
      await system.db.execute<{ p: number }>(sql`SELECT partition AS p FROM wallets WHERE id = ${w}`)
    ).rows[0]?.p as number;
    if (!found.has(p)) found.set(p, w);
  }
  const wallets = [found.get(0), found.get(1)] as [string, string];
  for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
  return wallets;
}

/**
 * The sweeper's read of expired holds, run as a worker runs it (its session settings: one generic
 * plan; auto_explain, analyzed), reads `operations` by key only: each candidate hold's operation,
 * and its captures and voids (by hold), its expiry voids among them. It once joined the attempts'
 * expiry keys to every operation of the hold's client, hashed, per hold: here 2,000 rows for each
 * of the 1,000 holds, 160-330 ms a sweep, and a client with millions of operations would have
 * cost millions per expired hold at every sweep.
 */
async function expectSweepReadsByKey(holds: number): Promise<void> {
  const plans: PlanNode[] = [];
  const client = await explainedSession(system.databaseUrl, plans);
  try {
    await expiredHolds(client, 1_000);
  } finally {
    await client.end();
  }
  const nodes = plans.flatMap(nodesOf);
  // The active holds by expiry; `operations` by index conditions only, no sequential scan and no
  // whole index in key order (the row bound below catches a condition that reads too wide a slice).
  expect(nodes.filter((n) => n["Relation Name"] === "holds").map((n) => n["Index Name"])).toEqual([
    "holds_active_expires_at_idx",
  ]);
  const probes = nodes.filter((n) => n["Relation Name"] === "operations");
  expect(probes.filter((n) => n["Node Type"] === "Seq Scan")).toEqual([]);
  const scans = nodes.filter((n) => n["Index Name"]?.startsWith("operations_"));
  expect(scans.filter((n) => n["Index Cond"] === undefined)).toEqual([]);
  const read = probes.reduce(
    (sum, n) =>
      sum +
      (n["Actual Rows"] + (n["Rows Removed by Filter"] ?? 0) + (n["Rows Removed by Index Recheck"] ?? 0)) *
        n["Actual Loops"],
    0,
  );
  expect(read).toBeLessThanOrEqual(holds * (2 + MAX_EXPIRY_ATTEMPTS));
}

const holdStatus = async (id: string) => (await api.get(`/v1/operations/${id}`)).body.hold?.status;

describe("hold expiry", () => {
  it("1,000 holds whose expiry voids wait behind a stalled partition do not keep another partition's hold from expiring", async () => {
    const [p0, p1] = await walletsByPartition();
    const sink = await newWallet(api);
    // 1,000 holds of partition 0 expire first, then one of partition 1.
    const bulk = await api.post("/v1/operations/bulk", {
      operations: Array.from({ length: 1_000 }, () => ({
        type: "hold",
        idempotencyKey: randomUUID(),
        fromWalletId: p0,
        toWalletId: sink,
        amount: 1,
        expiresInSeconds: 1,
      })),
    });
    expect(bulk.status).toBe(200);
    await waitAllSettled(system);
    // Partition 0's runner lingers after its batches, riding the batches other partitions' runners
    // open (docs/design.md): stalled then, it would hold back partition 1's batch it rode along.
    await expect.poll(() => running.has(0), { timeout: 10_000, interval: 20 }).toBe(false);
    stalled = 0;
    const late = (await api.hold(p1, sink, 5, { expiresInSeconds: 1 })).body.id as string;
    // Partition 0's runner now stalls in its next batch: the expiry voids of its holds wait.
    await expect.poll(() => holdStatus(late), { timeout: 30_000, interval: 200 }).toBe("expired");
    expect((await api.get(`/v1/wallets/${p1}`)).body).toMatchObject({ balance: 10_000, heldBalance: 0 });
    const waiting = await system.db.execute<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM operations WHERE type = 'void' AND status = 'pending' AND from_wallet_id = ${p0}`);
    expect(waiting.rows[0]?.n).toBe(1_000);
    await expectSweepReadsByKey(1_000);

    stalled = undefined;
    release();
    await waitAllSettled(system);
    expect((await api.get(`/v1/wallets/${p0}`)).body).toMatchObject({ balance: 10_000, heldBalance: 0 });
    await expectAuditClean(system);
  }, 120_000);

  it("a hold whose capture, accepted before its expiry, still waits in the queue gets no expiry void", async () => {
    const [p0, p1] = await walletsByPartition();
    const sink = await newWallet(api);
    const hold = await api.settle((await api.hold(p0, sink, 9, { expiresInSeconds: 5 })).body.id);
    onTestFinished(() => {
      stalled = undefined;
      release();
    });
    // Partition 0's runner stalls in its next batch, the capture's (not lingering in another's,
    // where it would hold back partition 1's batch it rode along).
    await expect.poll(() => running.has(0), { timeout: 10_000, interval: 20 }).toBe(false);
    stalled = 0;
    const capture = (await api.capture(hold.id, 4)).body;
    expect(Date.parse(capture.createdAt)).toBeLessThan(Date.parse(hold.hold.expiresAt));
    await expect.poll(() => running.has(0), { timeout: 10_000, interval: 20 }).toBe(true);
    // A hold of the other partition that expires after it: once it is expired, a sweep has read
    // the first hold past its expiry, still active, with its capture queued.
    const witness = (await api.hold(p1, await newWallet(api), 1, { expiresInSeconds: 5 })).body.id as string;
    await expect.poll(() => holdStatus(witness), { timeout: 30_000, interval: 100 }).toBe("expired");
    const voids = async () =>
      (
        await system.db.execute<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM operations WHERE type = 'void' AND hold_id = ${hold.id}`,
        )
      ).rows[0]?.n;
    expect((await api.get(`/v1/operations/${capture.id}`)).body.status).toBe("pending");
    expect(await holdStatus(hold.id)).toBe("active");
    expect(await voids()).toBe(0);

    stalled = undefined;
    release();
    expect((await api.settle(capture.id)).status).toBe("succeeded");
    expect(await holdStatus(hold.id)).toBe("captured");
    expect(await voids()).toBe(0);
    expect((await api.get(`/v1/wallets/${p0}`)).body).toMatchObject({ balance: 10_000 - 4, heldBalance: 0 });
    expect((await api.get(`/v1/wallets/${p1}`)).body).toMatchObject({ balance: 10_000, heldBalance: 0 });
    await expectAuditClean(system);
  });

  it("a step accepted at or after the expiry, still queued, does not keep the hold from its expiry void", async () => {
    // At the query: an expired hold, and a capture of it accepted after its expiry, in a
    // transaction rolled back (the sweeper never sees them). Moved before the expiry, the same
    // capture decides the hold, and the hold is skipped.
    const [p0] = await walletsByPartition();
    const sink = await newWallet(api);
    const client = new pg.Client({ connectionString: system.databaseUrl });
    await client.connect();
    try {
      await client.query("BEGIN");
      const hold = randomUUID();
      const capture = randomUUID();
      const clientId = (
        await system.db.execute<{ c: string }>(sql`SELECT client_id AS c FROM wallets WHERE id = ${p0}`)
      ).rows[0]?.c;
      await client.query(
        `INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id,
                                 partition, idempotency_key, request_hash, created_at, completed_at, expires_at)
         SELECT $1::uuid, $2, 'hold', 'succeeded', 5, 'USD', $3, $4, 0, $1::text, 'h', now() - interval '2 minutes', now(),
                now() - interval '1 minute'`,
        [hold, clientId, p0, sink],
      );
      await client.query(
        `INSERT INTO holds (operation_id, from_wallet_id, to_wallet_id, amount, status, expires_at)
         VALUES ($1, $2, $3, 5, 'active', now() - interval '1 minute')`,
        [hold, p0, sink],
      );
      await client.query(
        `INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id,
                                 hold_id, partition, idempotency_key, request_hash, created_at)
         VALUES ($1::uuid, $2, 'capture', 'pending', 5, 'USD', $3, $4, $5, 0, $1::text, 'h', now())`,
        [capture, clientId, p0, sink, hold],
      );
      const expiring = async () => (await expiredHolds(client, 1_000)).some((h) => h.id === hold);
      expect(await expiring()).toBe(true);
      await client.query(`UPDATE operations SET created_at = now() - interval '90 seconds' WHERE id = $1`, [
        capture,
      ]);
      expect(await expiring()).toBe(false);
    } finally {
      await client.query("ROLLBACK");
      await client.end();
    }
  });

  it("a hold whose expiry void failed (internal_error) is voided again under a new key", async () => {
    const [p0] = await walletsByPartition();
    const sink = await newWallet(api);
    const hold = (await api.settle((await api.hold(p0, sink, 7, { expiresInSeconds: 1 })).body.id))
      .id as string;
    // The first expiry void is made poison while its partition's runner waits.
    stalled = 0;
    const firstVoid = async () =>
      (
        await system.db.execute<{ id: string }>(
          sql`SELECT id FROM operations WHERE idempotency_key = ${expiryKey(hold)}`,
        )
      ).rows[0]?.id;
    await expect.poll(firstVoid, { timeout: 20_000, interval: 50 }).toBeDefined();
    poison.add((await firstVoid()) as string);
    stalled = undefined;
    release();
    await expect.poll(() => holdStatus(hold), { timeout: 30_000, interval: 200 }).toBe("expired");
    const voids = await system.db.execute<{ key: string; status: string; code: string | null }>(sql`
      SELECT idempotency_key AS key, status, failure_code AS code FROM operations
      WHERE type = 'void' AND hold_id = ${hold} ORDER BY seq`);
    expect(voids.rows).toEqual([
      { key: expiryKey(hold), status: "failed", code: "internal_error" },
      { key: expiryKey(hold, 2), status: "succeeded", code: null },
    ]);
    expect((await api.get(`/v1/wallets/${p0}`)).body.heldBalance).toBe(0);
    await expectAuditClean(system);
  });
});
