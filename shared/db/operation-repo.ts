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

/** An operation submitted by `clientId`. */
export async function findClientOperation(
  db: Db,
  clientId: string,
  id: string,
): Promise<OperationWithHold | undefined> {
  const rows = await db
    .select({ operation: operations, hold: holds })
    .from(operations)
    .leftJoin(holds, eq(holds.operationId, operations.id))
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

/**
 * A page of a client's operations, newest first, optionally touching one wallet and/or in one
 * status or type. A wallet's page is two range scans, one in each wallet index, merged
 * ({@link touching}); pending ones are looked up from the queue ({@link STILL_QUEUED}).
 */
export async function listClientOperations(
  db: Db,
  clientId: string,
  filter: {
    walletId?: string;
    status?: Operation["status"];
    type?: Operation["type"];
    limit: number;
    beforeId?: string;
  },
): Promise<OperationWithHold[]> {
  const page = (side?: { wallet: SQL; order: SQL[] }) =>
    db
      .select({ operation: operations, hold: holds })
      .from(operations)
      .leftJoin(holds, eq(holds.operationId, operations.id))
      .where(
        and(
          eq(operations.clientId, clientId),
          side?.wallet,
          filter.status ? eq(operations.status, filter.status) : undefined,
          filter.status === "pending" ? STILL_QUEUED : undefined,
          filter.type ? eq(operations.type, filter.type) : undefined,
          filter.beforeId ? lt(operations.id, filter.beforeId) : undefined,
        ),
      )
      .orderBy(...(side?.order ?? [desc(operations.id)]))
      .limit(filter.limit);
  const { walletId } = filter;
  if (!walletId) return page();
  const sides = await Promise.all([
    page(touching(operations.fromWalletId, walletId)),
    page(touching(operations.toWalletId, walletId)),
  ]);
  // A transfer's wallets differ (400 otherwise): no operation is on both sides. Ids are UUIDs in
  // lower-case hex, whose text order is Postgres's order of uuid.
  return sides
    .flat()
    .sort((a, b) => (a.operation.id < b.operation.id ? 1 : -1))
    .slice(0, filter.limit);
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
