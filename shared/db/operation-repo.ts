import { and, desc, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Db } from "./client.ts";
import { type Hold, holds, type Operation, operations, pendingOperations } from "./schema/index.ts";
import { XactSnapshot } from "./xact-snapshot.ts";

/** An operation and, for a succeeded hold operation, its hold's row. */
export interface OperationWithHold {
  operation: Operation;
  hold: Hold | null;
}

/** Operations with, for a succeeded hold operation, its hold: the select of every read that answers operations. */
const withHold = (db: Db) =>
  db
    .select({ operation: operations, hold: holds })
    .from(operations)
    .leftJoin(holds, eq(holds.operationId, operations.id));

/** An operation submitted by `clientId`. */
export async function findClientOperation(
  db: Db,
  clientId: string,
  id: string,
): Promise<OperationWithHold | undefined> {
  const rows = await withHold(db)
    .where(and(eq(operations.id, id), eq(operations.clientId, clientId)))
    .limit(1);
  return rows[0];
}

/** The holds of these succeeded hold operations, by operation id (a replay's answer carries its hold). */
export async function findHolds(db: Db, operationIds: string[]): Promise<Map<string, Hold>> {
  if (operationIds.length === 0) return new Map();
  const rows = await db.select().from(holds).where(inArray(holds.operationId, operationIds));
  return new Map(rows.map((h) => [h.operationId, h]));
}

/** At most this many operations are examined for a filtered page (per wallet side) before it answers, short if need be. */
export const FILTERED_PAGE_BUDGET = 1_000;

/** What {@link listClientOperations} found. */
export interface OperationPage {
  /** Up to `limit` operations, newest first. */
  rows: OperationWithHold[];
  /**
   * Set when a filtered page stopped at its budget before it found `limit` operations: every
   * operation from this id up (to the cursor) was examined, and the next page starts below it.
   */
  examinedDownTo?: string;
}

interface ListFilter {
  walletId?: string;
  status?: Operation["status"];
  type?: Operation["type"];
  limit: number;
  beforeId?: string;
  /** {@link FILTERED_PAGE_BUDGET}, unless a test sets a smaller one. */
  budget?: number;
}

/**
 * A page of a client's operations, newest first, optionally touching one wallet and/or in one
 * status or type. The client's operations alone are a range of its index, and its pending ones
 * probes for the queued ids ({@link STILL_QUEUED}): those pages are exact. A page filtered any
 * other way has no index that holds only what it asks for, so it examines the candidates in
 * order, at most `budget` of them ({@link examine}), and may answer fewer than `limit` (none,
 * even) with `examinedDownTo` to go on from: a client with a million transfers and three
 * refunds costs a bounded read per page, not a walk of its history.
 */
export async function listClientOperations(
  db: Db,
  clientId: string,
  filter: ListFilter,
): Promise<OperationPage> {
  const { walletId, status, type } = filter;
  if (!walletId && !type && (status === undefined || status === "pending")) {
    const rows = await withHold(db)
      .where(
        and(
          eq(operations.clientId, clientId),
          status === "pending" ? and(eq(operations.status, status), STILL_QUEUED) : undefined,
          filter.beforeId ? lt(operations.id, filter.beforeId) : undefined,
        ),
      )
      .orderBy(desc(operations.id))
      .limit(filter.limit);
    return { rows };
  }
  const sides = walletId
    ? await Promise.all([
        examine(db, clientId, filter, touching(operations.fromWalletId, walletId)),
        examine(db, clientId, filter, touching(operations.toWalletId, walletId)),
      ])
    : [await examine(db, clientId, filter)];
  // Complete only down to the highest id where a side stopped at its budget. A transfer's
  // wallets differ (400 otherwise): no operation is on both sides. Ids are UUIDs in lower-case
  // hex, whose text order is Postgres's order of uuid.
  const stops = sides.flatMap((s) => (s.stoppedAt ? [s.stoppedAt] : []));
  const examinedDownTo = stops.sort().at(-1);
  const ids = sides
    .flatMap((s) => s.matches)
    .filter((id) => examinedDownTo === undefined || id >= examinedDownTo)
    .sort((a, b) => (a < b ? 1 : -1))
    .slice(0, filter.limit);
  const rows =
    ids.length === 0
      ? []
      : await withHold(db).where(inArray(operations.id, ids)).orderBy(desc(operations.id));
  return rows.length < filter.limit && examinedDownTo ? { rows, examinedDownTo } : { rows };
}

/**
 * Examines a filtered page's candidates in their index's order (the client's operations, or one
 * side of a wallet's), from the cursor down, and returns the ids of the first `limit` that match,
 * newest first, and, when it examined `budget` candidates first, the last one examined. One
 * statement that stops as soon as either is reached: the candidates are numbered as they stream
 * from the index (`row_number() OVER ()`, no sort), and the outer `LIMIT` pulls only until it has
 * `limit` matches or the last candidate the budget allows.
 */
async function examine(
  db: Db,
  clientId: string,
  filter: ListFilter,
  side?: { wallet: SQL; order: SQL[] },
): Promise<{ matches: string[]; stoppedAt?: string }> {
  const budget = filter.budget ?? FILTERED_PAGE_BUDGET;
  const candidates = db
    .select({
      id: operations.id,
      matches: sql<boolean>`${and(
        eq(operations.clientId, clientId),
        filter.status ? eq(operations.status, filter.status) : undefined,
        filter.type ? eq(operations.type, filter.type) : undefined,
      )}`.as("matches"),
    })
    .from(operations)
    .where(
      and(
        side ? side.wallet : eq(operations.clientId, clientId),
        filter.beforeId ? lt(operations.id, filter.beforeId) : undefined,
      ),
    )
    .orderBy(...(side?.order ?? [desc(operations.id)]))
    .limit(budget)
    .as("candidates");
  const r = await db.execute<{ id: string; matches: boolean; n: string }>(sql`
    SELECT id, matches, n FROM (
      SELECT ${candidates.id} AS id, ${candidates.matches} AS matches, row_number() OVER () AS n
      FROM ${candidates}
    ) numbered
    WHERE matches OR n = ${budget}
    LIMIT ${filter.limit}`);
  const matches = r.rows.filter((row) => row.matches).map((row) => row.id);
  const last = r.rows.at(-1);
  return matches.length < filter.limit && last && Number(last.n) === budget
    ? { matches, stoppedAt: last.id }
    : { matches };
}

/**
 * Pending operations are those still in `pending_operations` (the accept inserts both rows in one
 * statement; the batch that sets an operation's final status deletes its queue row in the same
 * statement), a table no larger than the backlog. Asked by id from it, the client's pending
 * operations are probes of the primary key for the queued ids, in id order: without it, a client
 * with few pending operations had its whole history walked backwards for each page of them.
 */
const STILL_QUEUED = sql`${operations.id} = ANY (ARRAY(SELECT operation_id FROM ${pendingOperations}))`;

/**
 * One side of a wallet's page, in that side's index order, `(wallet, id)`: only that index can
 * give it. Written `side = wallet ORDER BY id DESC` (or `from = w OR to = w`), the primary key
 * gives the same order, and Postgres may walk it backwards through every newer operation of the
 * client, filtering: on 100,000 operations, a page of a wallet whose 300 operations were the
 * oldest read 95,000 buffers (100-230 ms), against 23 this way (docs/performance.md, "A
 * wallet's operations"). `= ANY` of a one-element array is estimated as `=` but, unlike `=`, does
 * not make the wallet a constant that the planner drops from the order.
 */
function touching(side: PgColumn, walletId: string): { wallet: SQL; order: SQL[] } {
  return {
    wallet: sql`${side} = ANY (ARRAY[${walletId}]::uuid[])`,
    order: [desc(side), desc(operations.id)],
  };
}

/** A count of the pending operations and the snapshot it was counted under. */
export interface BacklogSample {
  /** Pending operations per partition (index = partition). */
  perPartition: number[];
  /** The count's snapshot: whose inserts it saw. */
  snapshot: XactSnapshot;
}

/**
 * Pending operations per partition, counting at most `cap` rows in all: the cost of a sample is
 * bounded however deep the backlog is. Reads the pending operations' queue only, in its key
 * order. While the total is below `cap` the counts are exact, and they are exactly the
 * operations whose inserts `snapshot` sees (one statement, one snapshot).
 */
export async function countPendingByPartition(
  db: Db,
  partitions: number,
  cap: number,
): Promise<BacklogSample> {
  const r = await db.execute<{ snapshot: string; partition: number | null; n: number | null }>(sql`
    SELECT pg_current_snapshot()::text AS snapshot, counted.partition, counted.n
    FROM (SELECT 1) one LEFT JOIN (
      SELECT partition, count(*)::int AS n
      FROM (SELECT partition FROM pending_operations ORDER BY partition, seq LIMIT ${cap}) pending
      GROUP BY partition
    ) counted ON true`);
  const perPartition = new Array<number>(partitions).fill(0);
  for (const { partition, n } of r.rows) {
    if (partition !== null && n !== null && partition < partitions) perPartition[partition] = n;
  }
  return { perPartition, snapshot: XactSnapshot.parse((r.rows[0] as { snapshot: string }).snapshot) };
}
