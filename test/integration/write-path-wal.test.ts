import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_SETTINGS, openDb } from "../../shared/db/client.ts";
import { runPartition } from "../../worker/partition-runner.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { acceptTopUps, runnerDeps } from "../helpers/runner.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * What the write path logs for each operation, read back from the WAL of the test's own database
 * (`pg_walinspect`, records filtered by relation: other tests' databases write WAL meanwhile).
 * The storage layout promises each operation's final status in one HOT update of its row
 * (docs/design.md, "Storage layout"); a BEFORE UPDATE row trigger on `operations` made Postgres
 * lock the row first (a lock record, the row dirtied twice), although the trigger only watches
 * `id` (migration 0008).
 */

let system: TestSystem;
let api: Api & { clientId: string };

beforeAll(async () => {
  system = await startSystem({ partitions: 1 });
  api = await newClient(system);
  await system.db.execute(sql`CREATE EXTENSION IF NOT EXISTS pg_walinspect`);
});
afterAll(async () => system?.stop());

/** Accepts top-ups of `walletId` one request at a time, then applies them in batches of `cap`. */
async function acceptAndApply(walletId: string, amounts: number[], cap: number): Promise<void> {
  const accepts = openDb({ url: system.databaseUrl, poolSize: 1, applicationName: "test-accepts" });
  const batches = openDb({
    url: system.databaseUrl,
    poolSize: 1,
    applicationName: "test-batches",
    sessionSettings: BATCH_SETTINGS,
  });
  try {
    await acceptTopUps(accepts.pool, api.clientId, walletId, amounts);
    expect(await runPartition(0, runnerDeps(batches.pool, { batchCap: () => cap }))).toBe("drained");
  } finally {
    await Promise.all([accepts.close(), batches.close()]);
  }
}

const lsn = async (position: "insert" | "flush"): Promise<string> =>
  (
    await system.db.execute<{ lsn: string }>(
      position === "insert"
        ? sql`SELECT pg_current_wal_insert_lsn()::text AS lsn`
        : sql`SELECT pg_current_wal_flush_lsn()::text AS lsn`,
    )
  ).rows[0]?.lsn as string;

/** The WAL records between two positions that touch `table` of this database, counted by type. */
async function recordsOn(table: string, from: string, to: string): Promise<Record<string, number>> {
  const r = await system.db.execute<{ type: string; n: number }>(sql`
    SELECT record_type AS type, count(*)::int AS n
    FROM pg_get_wal_records_info(${from}::pg_lsn, ${to}::pg_lsn)
    WHERE block_ref LIKE '%/' || (SELECT oid FROM pg_database WHERE datname = current_database())
                         || '/' || pg_relation_filenode(${table}::regclass) || ' %'
    GROUP BY record_type`);
  return Object.fromEntries(r.rows.map((row) => [row.type, row.n]));
}

describe("the write path's WAL", () => {
  it("sets each operation's status in one HOT update of its row, and locks no operation nor queue row", async () => {
    const w = await newWallet(api);
    const amounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const from = await lsn("insert");
    await acceptAndApply(w, amounts, 4);
    // Every commit of the run is flushed: the reader sees all of its records up to there.
    const to = await lsn("flush");

    expect((await api.get(`/v1/wallets/${w}`)).body.balance).toBe(55);
    const statuses = await system.db.execute<{ status: string; n: number }>(
      sql`SELECT status, count(*)::int AS n FROM operations WHERE to_wallet_id = ${w} GROUP BY status`,
    );
    expect(statuses.rows).toEqual([{ status: "succeeded", n: amounts.length }]);

    const operations = await recordsOn("operations", from, to);
    expect(operations.HOT_UPDATE, JSON.stringify(operations)).toBe(amounts.length);
    expect(operations.LOCK ?? 0, JSON.stringify(operations)).toBe(0);
    expect(operations.UPDATE ?? 0, JSON.stringify(operations)).toBe(0);
    // The queue's rows are inserted and deleted, never locked: the batch locks its partition.
    const queue = await recordsOn("pending_operations", from, to);
    expect(queue, JSON.stringify(queue)).toMatchObject({ DELETE: amounts.length });
    expect(queue.LOCK ?? 0, JSON.stringify(queue)).toBe(0);
    // Each batch (4, 4, 2 operations) updates the wallet and its funding account, HOT, each row
    // locked once, by the runner's lock of the batch's wallets.
    const wallets = await recordsOn("wallets", from, to);
    expect(wallets, JSON.stringify(wallets)).toMatchObject({ HOT_UPDATE: 6, LOCK: 6 });
  });
});
