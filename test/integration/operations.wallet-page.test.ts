import { once } from "node:events";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FILTERED_PAGE_BUDGET, listClientOperations } from "../../shared/db/operation-repo.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

type Filter = Omit<Parameters<typeof listClientOperations>[2], "limit"> & { limit?: number };

/**
 * `GET /v1/operations` filtered by wallet or by `status=pending` reads a page of what it asks
 * for, whatever else the client has; filtered by type or a final status it reads a bounded
 * number of operations per page (shared/db/operation-repo.ts). A system of its own, with no
 * worker at first: the 10,303 operations stay pending and hold no other test's runners.
 */
describe("a page of a wallet's, or of the pending, operations among many more of the client's", () => {
  let system: TestSystem;
  let client: Api & { clientId: string };
  let early: string;
  let busy: string;
  /** The client's three transfers, its oldest operations, newest first. */
  const transfers: string[] = [];

  beforeAll(async () => {
    system = await startSystem({ partitions: 2 });
    client = await newClient(system, "reader");
    early = await newWallet(client);
    busy = await newWallet(client);
    // Applied first, from an empty wallet: they end failed (insufficient_funds).
    for (const key of ["t1", "t2", "t3"]) {
      const r = await client.transfer(early, busy, 7, key);
      expect(r.status).toBe(202);
      transfers.unshift(r.body.id);
    }
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
      const page = await listClientOperations(tx, client.clientId, { limit: 21, ...filter });
      return {
        ids: page.rows.map((r) => r.operation.id),
        fetched: (await rowsRead()) - before,
        ...(page.examinedDownTo ? { examinedDownTo: page.examinedDownTo } : {}),
      };
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
    // Its own 21 rows (examined, then read whole) and the wallet's three transfers on the other side.
    expect(first.fetched).toBeLessThanOrEqual(2 * 21 + transfers.length);
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

  /** Every id of a listing, page after page as the route pages it (`limit + 1` asked, the extra one says there is more). */
  const walk = async (filter: Filter & { limit: number }) => {
    const ids: string[] = [];
    let beforeId: string | undefined;
    for (let pages = 1; ; pages++) {
      const page = await read({ ...filter, limit: filter.limit + 1, ...(beforeId ? { beforeId } : {}) });
      ids.push(...page.ids.slice(0, filter.limit));
      expect(page.fetched).toBeLessThanOrEqual(
        2 * (filter.budget ?? FILTERED_PAGE_BUDGET) + 2 * filter.limit,
      );
      beforeId = page.ids.length > filter.limit ? page.ids[filter.limit - 1] : page.examinedDownTo;
      if (!beforeId) return { ids, pages };
    }
  };

  it("a page by type or final status examines at most its budget, and its cursor goes on to every match", async () => {
    // The three transfers are the oldest of 10,306: a page of them reads a bounded part of the
    // client's history and answers short, with a cursor to go on (the whole history before).
    const first = await read({ type: "transfer" });
    expect(first.ids).toEqual([]);
    expect(first.examinedDownTo).toBeDefined();
    expect(first.fetched).toBeLessThanOrEqual(FILTERED_PAGE_BUDGET);

    // Over HTTP: the cursors lead to the three, in order, and the last page says it is the last.
    for (const query of ["type=transfer", "status=failed", "type=transfer&status=failed"]) {
      const found: { id: string; failure: { code: string } | null }[] = [];
      let pages = 0;
      for (let cursor: string | null = ""; cursor !== null; pages++) {
        const r = await client.get(`/v1/operations?${query}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(r.status).toBe(200);
        expect(r.body.data.length).toBeLessThanOrEqual(2);
        found.push(...r.body.data);
        cursor = r.body.nextCursor;
      }
      expect(found.map((o) => o.id)).toEqual(transfers);
      expect(found.map((o) => o.failure?.code)).toEqual(transfers.map(() => "insufficient_funds"));
      expect(pages).toBeLessThanOrEqual(Math.ceil(10_306 / FILTERED_PAGE_BUDGET) + 2);
    }
    expect((await walk({ type: "transfer", limit: 2, budget: 700 })).ids).toEqual(transfers);
  });

  it("a wallet's page merges its two sides where each stopped at its budget", async () => {
    // early: three transfers out (its oldest), 300 top-ups and three pending ones in.
    const all = (
      await system.db.execute<{ id: string }>(sql`
        SELECT id::text FROM operations WHERE ${early} IN (from_wallet_id, to_wallet_id) ORDER BY id DESC`)
    ).rows.map((r) => r.id);
    expect(all).toHaveLength(306);
    const small = await walk({ walletId: early, limit: 5, budget: 7 });
    expect(small.ids).toEqual(all);
    expect(small.pages).toBeGreaterThan(all.length / 5);
    expect((await walk({ walletId: early, limit: 20 })).ids).toEqual(all);
    const failed = await walk({ walletId: early, status: "failed", limit: 2, budget: 50 });
    expect(failed.ids).toEqual(transfers);
  });
});
