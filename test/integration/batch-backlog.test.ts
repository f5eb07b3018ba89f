import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAILURE_MESSAGES } from "../../shared/errors.ts";
import { readPending, writeBatch } from "../../worker/batch-repo.ts";
import { lockAndApply } from "../../worker/partition-runner.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A batch's write reads its own operations, whatever the backlog. Under load the backlog grows
 * (a bulk client fills it to the pending bound) while the statistics still say what the last
 * ANALYZE saw: hardly any pending operation. The status update's guard `status = 'pending'`
 * once let the planner read the partial pending index, every partition's backlog, and hash it
 * against the batch: each batch of 100 read 3,768 operations in one bench run (twice the
 * buffers of the rest of the statement), so the further behind the workers were, the slower.
 * The pending operations now wait in `pending_operations`: the write must read that queue, as
 * `operations`, by key, one row per operation of the batch.
 *
 * The same statistics once made a full batch (the default cap, 400) read the whole backlog
 * again: the guard `completed_at IS NULL`, estimated at one row, made the planner scan
 * `operations` for every pending row and compare each with every operation of the batch (here
 * 2,000 × 400; 430-690 ms for one batch in `write-path.ts`). A batch of 50, as this test once
 * used, kept the plan by key. So the batch here is a full one, applied as the runner applies it
 * (`lockAndApply`: its entries, balances and statuses), and no join of the write may compare more rows than the
 * batch has entries.
 */

let system: TestSystem;
let api: Api;
const BULK = 1_000;
const BACKLOG = 2 * BULK;
/** `BATCH_CAP_SHARED`'s default: a full batch of a partition among busy ones. */
const CAP = 400;

beforeAll(async () => {
  system = await startSystem({ partitions: 4 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Plan Rows": number;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Join Filter"?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, depth first. */
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/**
 * The indexes a scan of a table reads it through: its own (an index scan), or its bitmap's (a
 * bitmap heap scan, which Postgres may prefer for the same probes by key).
 */
const indexesOf = (scan: PlanNode): (string | undefined)[] =>
  scan["Node Type"] === "Bitmap Heap Scan"
    ? nodesOf(scan)
        .filter((n) => n["Node Type"] === "Bitmap Index Scan")
        .map((n) => n["Index Name"])
    : [scan["Index Name"]];

/**
 * A client through which each statement runs under EXPLAIN ANALYZE instead: the plans are kept,
 * and the write's summary row says it posted the `entries` it was given.
 */
function explaining(client: pg.PoolClient, plans: PlanNode[], entries: number): Pick<pg.PoolClient, "query"> {
  return {
    query: (async (q: pg.QueryConfig) => {
      const r = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`,
        q.values,
      );
      for (const row of r.rows) plans.push(...row["QUERY PLAN"].map((p) => p.Plan));
      return { rows: [{ ids: [], deliveries: 0, entries, refunded: 0 }] };
    }) as unknown as pg.PoolClient["query"],
  };
}

const pendingCount = async () =>
  Number(
    (
      await system.db.execute<{ n: string }>(
        sql`SELECT count(*)::text AS n FROM operations WHERE status = 'pending'`,
      )
    ).rows[0]?.n,
  );

const balances = async (ids: string[]) =>
  Promise.all(ids.map(async (id) => (await api.get(`/v1/wallets/${id}`)).body.balance as number));

/** A bulk of {@link BULK} top-ups of 1 spread over `wallets`, every item accepted. */
async function bulkTopUps(wallets: string[]): Promise<void> {
  const operations = Array.from({ length: BULK }, (_, i) => ({
    type: "top_up",
    idempotencyKey: randomUUID(),
    walletId: wallets[i % wallets.length],
    amount: 1,
  }));
  const r = await api.post("/v1/operations/bulk", { operations });
  expect(r.status).toBe(200);
  expect(r.body.data.every((item: { status: number }) => item.status === 202)).toBe(true);
}

describe("a batch write with thousands pending elsewhere", () => {
  it("reads only the batch's operations, by id, though the statistics saw no backlog", async () => {
    const wallets = await Promise.all(Array.from({ length: 8 }, () => newWallet(api)));
    // A settled history ten times the backlog, then ANALYZE: the planner's view of operations
    // is "none pending", and no autovacuum may refresh it meanwhile.
    await system.db.execute(sql`ALTER TABLE operations SET (autovacuum_enabled = off)`);
    const worker = await system.startInProcessWorker();
    for (let i = 0; i < 10; i++) await bulkTopUps(wallets);
    await waitAllSettled(system);
    await worker.stop();
    system.inProcessWorkers.splice(system.inProcessWorkers.indexOf(worker), 1);
    // The history in key order. On a table this small the planner may rightly prefer one scan of
    // it to 400 probes of the key when its rows lie out of key order: ordered by the idempotency
    // key (pg_stats.correlation of id 0.002), the outcomes update read operations by a sequential
    // scan, a read through no index, which is all one loaded CI run's failure said. Past some tens
    // of thousands of operations no order makes that scan win; this test is about the backlog, not
    // that choice. (Ordered, the guard before 983e069 still fails here: 2,000 rows read for 400.)
    await system.db.execute(sql`CLUSTER operations USING operations_pkey`);
    await system.db.execute(sql`ANALYZE operations`);
    const settled = await balances(wallets);
    expect(settled.reduce((a, b) => a + b, 0)).toBe(10 * BULK);

    // The backlog: no worker runs, every partition has hundreds pending.
    for (let i = 0; i < BACKLOG / BULK; i++) await bulkTopUps(wallets);
    expect(await pendingCount()).toBe(BACKLOG);
    const before = await balances(wallets);

    // One partition's full batch, as the runner applies it: locks, then the write, under EXPLAIN.
    const client = await system.db.$client.connect();
    const plans: PlanNode[] = [];
    let batch: Awaited<ReturnType<typeof readPending>>;
    try {
      await client.query("BEGIN");
      const fullest = await client.query(
        "SELECT partition, count(*)::int AS n FROM pending_operations GROUP BY partition ORDER BY n DESC LIMIT 1",
      );
      const { partition, n } = fullest.rows[0] as { partition: number; n: number };
      expect(n).toBeGreaterThanOrEqual(BACKLOG / 4);
      batch = await readPending(client, [{ partition, cap: CAP }]);
      expect(batch.length).toBe(Math.min(n, CAP));
      // The batch as the runner applies it: every top-up succeeds, two entries each.
      const result = await lockAndApply(client, batch, new Map());
      expect(result.entries.length).toBe(2 * batch.length);
      await writeBatch(explaining(client, plans, result.entries.length), result, FAILURE_MESSAGES);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
    // The statement updates operations twice: the refunded originals' sums (none here), and the
    // outcomes, whose reads of operations are the ones this test is about. Both are checked.
    const updates = plans
      .flatMap(nodesOf)
      .filter((n) => n["Node Type"] === "ModifyTable" && n["Relation Name"] === "operations");
    expect(updates.length).toBe(2);
    const reads = updates.flatMap((update) =>
      nodesOf(update).filter((n) => n["Relation Name"] === "operations" && n !== update),
    );
    expect(reads.reduce((sum, n) => sum + n["Actual Rows"] * n["Actual Loops"], 0)).toBe(batch.length);
    const dequeue = plans
      .flatMap(nodesOf)
      .find((n) => n["Node Type"] === "ModifyTable" && n["Relation Name"] === "pending_operations");
    const queueReads = nodesOf(dequeue as PlanNode).filter(
      (n) => n["Relation Name"] === "pending_operations" && n !== dequeue,
    );
    expect(queueReads.length).toBeGreaterThan(0);
    for (const n of queueReads) {
      expect(new Set(indexesOf(n))).toEqual(new Set(["pending_operations_pkey"]));
      expect(n["Actual Rows"] * n["Actual Loops"]).toBeLessThanOrEqual(batch.length);
    }
    // The webhook endpoints of the batch's one client are read once, not once per operation.
    const endpointReads = plans.flatMap(nodesOf).filter((n) => n["Relation Name"] === "webhook_endpoints");
    expect(endpointReads.length).toBeGreaterThan(0);
    for (const n of endpointReads) expect(n["Actual Loops"]).toBe(1);
    for (const n of reads) {
      // At most one row per operation of the batch, by its primary key.
      expect(n["Actual Rows"] * n["Actual Loops"]).toBeLessThanOrEqual(batch.length);
      // The node's shape in the message, should another plan appear despite the CLUSTER above.
      const shape = `${n["Node Type"]}, estimated ${n["Plan Rows"]} rows, ${n["Actual Rows"]} x ${n["Actual Loops"]}`;
      expect(new Set(indexesOf(n)), shape).toEqual(new Set(["operations_pkey"]));
    }
    // No join compares the batch's rows (operations, entries) with each other: work linear in it.
    for (const n of plans.flatMap(nodesOf)) {
      expect(n["Rows Removed by Join Filter"] ?? 0).toBeLessThanOrEqual(2 * batch.length);
    }

    // Rolled back: nothing moved. Then the backlog drains, every cent of it.
    expect(await pendingCount()).toBe(BACKLOG);
    expect(await balances(wallets)).toEqual(before);
    await system.startInProcessWorker();
    await waitAllSettled(system);
    const after = await balances(wallets);
    expect(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)).toBe(BACKLOG);
    expect(after.map((b, i) => b - (before[i] as number))).toEqual(
      wallets.map(() => BACKLOG / wallets.length),
    );
  });
});
