import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listClientOperations } from "../../shared/db/operation-repo.ts";
import { newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * `GET /v1/operations?walletId=` reads a page of the wallet's operations from the two wallet
 * indexes, whatever else the client has (shared/db/operation-repo.ts, `touching`). Its own
 * system, with no worker: the 10,300 operations stay pending and hold no other test's runners.
 */
describe("a wallet's operations, page by page, among many more of its client", () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startSystem({ partitions: 2 });
  });
  afterAll(async () => system?.stop());

  it("a wallet's page reads no other wallet's operations, however many newer ones the client has", async () => {
    const client = await newClient(system, "reader");
    const early = await newWallet(client);
    const busy = await newWallet(client);
    const topUps = async (walletId: string, prefix: string, n: number) => {
      const r = await client.post("/v1/operations/bulk", {
        operations: Array.from({ length: n }, (_, i) => ({
          type: "top_up",
          idempotencyKey: `${prefix}-${i}`,
          walletId,
          amount: 1,
        })),
      });
      expect(r.status).toBe(200);
    };
    // The wallet's 300 operations are older than the client's 10,000 others (a table large
    // enough for Postgres to prefer an index to reading it whole).
    await topUps(early, "early", 300);
    for (let k = 0; k < 10; k++) await topUps(busy, `busy-${k}`, 1_000);
    await system.db.execute(sql`ANALYZE operations`);

    // Rows of operations read by any scan, from Postgres's counters of this backend's
    // statistics not yet reported (a delta within one transaction: one backend).
    const rowsRead = async (tx: Parameters<Parameters<typeof system.db.transaction>[0]>[0]) =>
      (
        await tx.execute<{ n: number }>(sql`
          SELECT (seq_tup_read + coalesce(idx_tup_fetch, 0))::int AS n
          FROM pg_stat_xact_user_tables WHERE relid = 'operations'::regclass`)
      ).rows[0]?.n as number;
    const read = async (beforeId?: string) =>
      system.db.transaction(async (tx) => {
        const before = await rowsRead(tx);
        const rows = await listClientOperations(tx, client.clientId, {
          walletId: early,
          limit: 21,
          ...(beforeId ? { beforeId } : {}),
        });
        return { ids: rows.map((r) => r.operation.id), fetched: (await rowsRead(tx)) - before };
      });
    const mine = (
      await system.db.execute<{ id: string }>(
        sql`SELECT id::text FROM operations WHERE to_wallet_id = ${early} ORDER BY id DESC`,
      )
    ).rows.map((r) => r.id);
    const first = await read();
    expect(first.ids).toEqual(mine.slice(0, 21));
    const next = await read(first.ids[20]);
    expect(next.ids).toEqual(mine.slice(21, 42));
    // Walking the client's operations backwards reads the 10,000 newer ones first (10,021 rows
    // for the first page before this change). The first page reads its own 21 rows; a later
    // one at most the wallet's rows below its cursor (Postgres may then prefer sorting them).
    expect(first.fetched).toBeLessThanOrEqual(2 * 21);
    expect(next.fetched).toBeLessThanOrEqual(mine.length);
  });
});
