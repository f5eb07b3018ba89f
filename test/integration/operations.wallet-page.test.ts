import { once } from "node:events";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { listClientOperations } from "../../shared/db/operation-repo.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

type Filter = Omit<Parameters<typeof listClientOperations>[2], "limit">;

/**
 * `GET /v1/operations` filtered by wallet or by `status=pending` reads a page of what it asks
 * for, whatever else the client has (shared/db/operation-repo.ts). A system of its own, with no
 * worker at first: the 10,300 operations stay pending and hold no other test's runners.
 */
describe("a page of a wallet's, or of the pending, operations among many more of the client's", () => {
  let system: TestSystem;
  let client: Api & { clientId: string };
  let early: string;

  beforeAll(async () => {
    system = await startSystem({ partitions: 2 });
    client = await newClient(system, "reader");
    early = await newWallet(client);
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
  });
  afterAll(async () => system?.stop());

  /**
   * A page, and the rows of operations Postgres read for it by any scan: a delta of this
   * backend's statistics not yet reported, within one transaction (one backend).
   */
  const read = (filter: Filter) =>
    system.db.transaction(async (tx) => {
      const rowsRead = async () =>
        (
          await tx.execute<{ n: number }>(sql`
            SELECT (seq_tup_read + coalesce(idx_tup_fetch, 0))::int AS n
            FROM pg_stat_xact_user_tables WHERE relid = 'operations'::regclass`)
        ).rows[0]?.n as number;
      const before = await rowsRead();
      const rows = await listClientOperations(tx, client.clientId, { ...filter, limit: 21 });
      return { ids: rows.map((r) => r.operation.id), fetched: (await rowsRead()) - before };
    });

  it("a wallet's page reads no other wallet's operations, however many newer ones the client has", async () => {
    const mine = (
      await system.db.execute<{ id: string }>(
        sql`SELECT id::text FROM operations WHERE to_wallet_id = ${early} ORDER BY id DESC`,
      )
    ).rows.map((r) => r.id);
    const first = await read({ walletId: early });
    expect(first.ids).toEqual(mine.slice(0, 21));
    const next = await read({ walletId: early, beforeId: first.ids[20] as string });
    expect(next.ids).toEqual(mine.slice(21, 42));
    // Walking the client's operations backwards reads the 10,000 newer ones first (10,021 rows
    // for the first page before this change). The first page reads its own 21 rows; a later
    // one at most the wallet's rows below its cursor (Postgres may then prefer sorting them).
    expect(first.fetched).toBeLessThanOrEqual(2 * 21);
    expect(next.fetched).toBeLessThanOrEqual(mine.length);
  });

  it("a page of pending operations reads the queued ones, not the client's history", async () => {
    // A worker applies all 10,300, then stops: three new top-ups stay pending.
    const worker = await system.spawnWorker();
    await vi.waitFor(
      async () => {
        const queued = await system.db.execute<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM pending_operations`,
        );
        expect(queued.rows[0]?.n).toBe(0);
      },
      { timeout: 60_000, interval: 200 },
    );
    worker.kill("SIGTERM");
    await once(worker, "exit");
    expect(await read({ status: "pending" })).toEqual({ ids: [], fetched: 0 });
    const accepted: string[] = [];
    for (const key of ["p1", "p2", "p3"]) {
      const r = await client.topUp(early, 5, key);
      expect(r.status).toBe(202);
      accepted.unshift(r.body.id);
    }
    // Walking the client's operations backwards for fewer than a page of them read all 10,303
    // before this change.
    expect(await read({ status: "pending" })).toEqual({ ids: accepted, fetched: 3 });
    expect((await read({ status: "succeeded" })).ids).toHaveLength(21);
  });
});
