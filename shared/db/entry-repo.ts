import { setTimeout as sleep } from "node:timers/promises";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Database, Db } from "./client.ts";
import { type Entry, entries } from "./schema/index.ts";

/** A page of a wallet's entries in posting order, newest first, strictly before `beforeVersion`. */
export async function listWalletEntries(
  db: Db,
  walletId: string,
  page: { limit: number; beforeVersion?: bigint },
): Promise<Entry[]> {
  return db
    .select()
    .from(entries)
    .where(
      and(
        eq(entries.walletId, walletId),
        page.beforeVersion !== undefined ? lt(entries.walletVersion, page.beforeVersion) : undefined,
      ),
    )
    .orderBy(desc(entries.walletVersion))
    .limit(page.limit);
}

/**
 * A wallet's posted balance and version as of `at`, counting every entry whose `created_at`,
 * shown in milliseconds, is at or before `at`; 0 and 0 before the first. "future" when `at` is
 * later than Postgres's clock (the one that stamps entries, not the caller's). The answer for
 * an instant never changes once given: every entry that will ever count for `at` is committed
 * and visible when it is read.
 *
 * Exact by the wallet's row lock, not by a time margin: no bound on how long a COMMIT takes
 * after its batch stamped its entries would be a real one (a COMMIT waits on its WAL flush, or
 * on a synchronous standby, beyond any statement_timeout). A batch stamps its entries
 * (`clock_timestamp()` in its write, worker/batch-repo.ts) while it holds the row lock of each
 * wallet it posts to (`FOR NO KEY UPDATE`), until its transaction has ended and its commit is
 * visible. The first statement takes the conflicting `FOR SHARE` lock and reads Postgres's clock
 * (T) before it lets the lock go: every batch that held the wallet before has ended, so a later
 * snapshot sees its entries; every batch that locks it after stamps later than T. So once `at`
 * + 1 ms <= T, the second statement's snapshot holds every entry stamped before `at` + 1 ms that
 * will ever be committed. This relies, like the entries' posting order, on Postgres's clock not
 * stepping back. An `at` in Postgres's current millisecond is waited out (at most 1 ms); while
 * a batch posting to the wallet is committing, the first statement waits for it (bounded by
 * the session's statement_timeout).
 *
 * On the pool, not in a transaction: the lock is its statement's own transaction, held while
 * Postgres runs that statement and never across a round trip to the api, so it delays a batch
 * for the wallet by microseconds. The row lock gives that transaction an xid, whose commit
 * would wait on a WAL flush; `synchronous_commit` is off for it, as it changes no data (pgbench
 * here: 1.1 ms and one fsync per statement with it on, 0.12 ms and 4 fsyncs in 2,000 with it
 * off, a plain SELECT of the row 0.14 ms).
 *
 * The second statement finds the newest entry created before `at` + 1 ms by a binary search of
 * the wallet's versions on the primary key `(wallet_id, wallet_version)`: entries are dated in
 * version order (each batch dates them under the wallet's lock; the ledger audit checks it). One
 * probe per halving, about 20 for a wallet with a million entries (1-2 ms warm), in one
 * statement. No index by date is kept for this read: it cost a B-tree insertion per entry, two
 * per transfer, on the write path.
 */
export async function settledBalanceAt(
  db: Database,
  walletId: string,
  at: Date,
): Promise<{ balance: bigint; version: bigint } | "future"> {
  // Bound by node-pg, which writes years before 1 as BC (Drizzle's column mapping would not).
  const atSql = sql`${at}::timestamptz`;
  const before = sql`${atSql} + interval '1 millisecond'`;
  for (;;) {
    const clock = await db.execute<{ instant: "future" | "current" | "past" }>(
      sql`SELECT set_config('synchronous_commit', 'off', true) AS async_commit,
                 CASE WHEN ${atSql} > clock_timestamp() THEN 'future'
                      WHEN ${before} > clock_timestamp() THEN 'current'
                      ELSE 'past' END AS instant
          FROM wallets WHERE id = ${walletId}
          FOR SHARE`,
    );
    const instant = clock.rows[0]?.instant;
    if (instant === undefined) throw new Error(`wallet ${walletId} not found`);
    if (instant === "future") return "future";
    if (instant === "past") break;
    await sleep(1);
  }
  // lo: the newest version known dated before `before` (0: none); hi: the newest it can be.
  const r = await db.execute<{ balance: string | null; version: string }>(sql`
    WITH RECURSIVE search (lo, hi) AS (
      SELECT 0::bigint, (SELECT version FROM wallets WHERE id = ${walletId})
      UNION ALL
      SELECT CASE WHEN e.created_at < ${before} THEN m.mid ELSE s.lo END,
             CASE WHEN e.created_at < ${before} THEN s.hi ELSE m.mid - 1 END
      FROM search AS s
      CROSS JOIN LATERAL (SELECT (s.lo + s.hi + 1) / 2 AS mid) AS m
      JOIN entries AS e ON e.wallet_id = ${walletId} AND e.wallet_version = m.mid
      WHERE s.lo < s.hi
    )
    SELECT found.lo::text AS version,
           (SELECT balance_after::text FROM entries WHERE wallet_id = ${walletId} AND wallet_version = found.lo) AS balance
    FROM search AS found WHERE found.lo >= found.hi`);
  const row = r.rows[0];
  return { balance: BigInt(row?.balance ?? 0), version: BigInt(row?.version ?? 0) };
}
