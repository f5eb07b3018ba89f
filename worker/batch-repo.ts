import type pg from "pg";
import { int8Array, newIdArray, textArray, uuidArray } from "../shared/db/binary-array.ts";
import type { Queryable } from "../shared/db/client.ts";
import { EXPIRY_KEY_PREFIX } from "../shared/db/hold-facts-repo.ts";
import type { OperationType } from "../shared/db/schema/index.ts";
import { UUID_V7_SQL } from "../shared/ids.ts";
import { operationType } from "../shared/operation-types/catalog.ts";
import type { EntryDraft, HoldState, LockedWallet, Outcome, Refundable } from "./apply-batch.ts";
import { type Micros, micros } from "./micros.ts";

/**
 * The SQL of one partition batch, on the raw pg client of the batch's transaction. Every
 * statement is set-based; those with parameters are named, so each pooled connection parses and
 * plans them once. Six round trips per batch, whatever its size: BEGIN, the lock of its
 * partitions, the read of their pending operations, the lock of the wallets, the write, COMMIT
 * (and the funding look-up once per process; a batch with captures or voids locks their holds in
 * one more, with refunds their originals in one more). The select that confirms a partition
 * drained is asked first without a transaction ({@link hasPending}).
 */

/** A pending operation as the runner read it for a batch, under its partition's lock. */
export interface PendingOperation {
  partition: number;
  id: string;
  type: OperationType;
  amount: bigint;
  currency: string;
  fromWalletId: string | null;
  toWalletId: string | null;
  holdId: string | null;
  /** A refund's original. */
  refundOf: string | null;
  /** A hold's expiry, µs since the epoch. */
  expiresAt: Micros | null;
  /** When it was accepted, µs since the epoch. */
  createdAt: Micros;
  /** A void the sweeper accepted for an expired hold (hold-facts-repo.ts, `expiryKey`). */
  expiry: boolean;
  /** Time since acceptance (`created_at`) when the batch read it, by the Postgres clock, ms. */
  ageMs: number;
  /**
   * Its queue row's address (`ctid`), by which the batch write deletes it ({@link writeBatch}).
   * Fixed until the reading transaction ends: under the partition's lock no other transaction
   * deletes the row, and a rewrite of the table (VACUUM FULL, CLUSTER) waits for the lock the
   * read holds on it.
   */
  queuedAt: string;
}

/** A partition a batch reads, and the most operations it takes of it. */
export interface PartitionAsk {
  partition: number;
  cap: number;
}

/**
 * The class of the advisory locks that {@link readPending} takes, one per partition (the two-key
 * form: apart from the migration's single-key lock).
 */
const PARTITION_LOCK_CLASS = 0x62696c6c;

/**
 * Takes the asked partitions for the rest of the batch's transaction, then reads the oldest
 * pending operations of each, in acceptance order, up to its cap: the batch's first two
 * statements.
 *
 * The lock: a transaction-level advisory lock per partition, in ascending order (no two batches
 * wait for each other's partitions in a cycle), held in memory, no row touched and nothing
 * logged. A partition has one runner; a second one (after a false stall) waits for the first's
 * batch to end, and its read, a statement later and so with a snapshot taken after that end,
 * reads on from what the first left. Locking the queue rows instead (`FOR UPDATE`) wrote a WAL
 * record for each and dirtied its page once more before the batch deleted it.
 *
 * The read: each partition's queue (`pending_operations`, by its key), each operation joined by
 * id; the batch write deletes the queue rows, at the addresses this read returns, as it sets the
 * statuses. The rows come partition by partition, in the order asked, each in its `seq` order.
 */
export async function readPending(tx: Queryable, asks: readonly PartitionAsk[]): Promise<PendingOperation[]> {
  await tx.query({
    name: "batch.lock-partitions",
    text: `SELECT count(pg_advisory_xact_lock(${PARTITION_LOCK_CLASS}, s.partition))
           FROM (SELECT a.partition FROM unnest($1::int[]) AS a(partition) ORDER BY a.partition OFFSET 0) s`,
    values: [asks.map((a) => a.partition)],
  });
  const r = await tx.query({
    name: "batch.read-pending",
    text: `SELECT q.partition, o.id, o.type, o.amount::text AS amount, o.currency, o.from_wallet_id, o.to_wallet_id,
                  o.hold_id, o.refund_of, ${micros("o.expires_at")} AS expires_at, ${micros("o.created_at")} AS created_at,
                  (o.type = 'void' AND starts_with(o.idempotency_key, '${EXPIRY_KEY_PREFIX}' || o.hold_id)) AS expiry,
                  (extract(epoch FROM clock_timestamp() - o.created_at) * 1000)::float8 AS age_ms,
                  q.queued_at::text AS queued_at
           FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS a(partition, cap, n)
           CROSS JOIN LATERAL (
             SELECT p.partition, p.seq, p.operation_id, p.ctid AS queued_at FROM pending_operations p
             WHERE p.partition = a.partition
             ORDER BY p.seq
             LIMIT a.cap
           ) q
           JOIN operations o ON o.id = q.operation_id
           ORDER BY a.n, q.seq`,
    values: [asks.map((a) => a.partition), asks.map((a) => a.cap)],
  });
  return pendingRows(r);
}

/**
 * Those of `partitions` that have a pending operation, asked without a transaction or a lock:
 * one round trip where an empty {@link readPending} costs four (BEGIN, the partitions' lock, the
 * select, COMMIT). The runner asks it to confirm that a partition is drained (runPartition), the
 * one select that nearly always finds nothing: before every batch it would cost one round trip
 * more.
 */
export async function hasPending(db: Queryable, partitions: readonly number[]): Promise<Set<number>> {
  // In the queue's key order, as readPending reads it: the planner would rather scan this small
  // table whole for an EXISTS, dead rows of every partition included.
  const r = await db.query<{ partition: number }>({
    name: "batch.has-pending",
    text: `SELECT a.partition FROM unnest($1::int[]) AS a(partition)
           CROSS JOIN LATERAL (
             SELECT 1 FROM pending_operations p WHERE p.partition = a.partition ORDER BY p.partition, p.seq LIMIT 1
           ) q`,
    values: [[...partitions]],
  });
  return new Set(r.rows.map((row) => row.partition));
}

/** The rows {@link readPending} read. */
function pendingRows(r: pg.QueryResult): PendingOperation[] {
  return (
    r.rows as {
      partition: number;
      id: string;
      type: OperationType;
      amount: string;
      currency: string;
      from_wallet_id: string | null;
      to_wallet_id: string | null;
      hold_id: string | null;
      refund_of: string | null;
      expires_at: string | null;
      created_at: string;
      expiry: boolean;
      age_ms: number;
      queued_at: string;
    }[]
  ).map((row) => ({
    partition: row.partition,
    id: row.id,
    type: row.type,
    amount: BigInt(row.amount),
    currency: row.currency,
    fromWalletId: row.from_wallet_id,
    toWalletId: row.to_wallet_id,
    holdId: row.hold_id,
    refundOf: row.refund_of,
    expiresAt: row.expires_at === null ? null : BigInt(row.expires_at),
    createdAt: BigInt(row.created_at),
    expiry: row.expiry,
    ageMs: row.age_ms,
    queuedAt: row.queued_at,
  }));
}

/**
 * The funding account a top-up of the batch debits or a payout credits, by partition and
 * currency, from the process cache (`${partition}:${currency}` → id); accounts missing from it
 * are read once.
 */
export async function fundingFor(
  tx: Queryable,
  pending: PendingOperation[],
  cache: Map<string, string>,
): Promise<(partition: number, currency: string) => string | undefined> {
  const key = (partition: number, currency: string): string => `${partition}:${currency}`;
  const missing = pending.filter(
    (op) => operationType(op.type).ledger.funding !== null && !cache.has(key(op.partition, op.currency)),
  );
  if (missing.length > 0) {
    const partitions = [...new Set(missing.map((op) => op.partition))];
    const currencies = [...new Set(missing.map((op) => op.currency))];
    for (const a of await fundingAccounts(tx, partitions, currencies))
      cache.set(key(a.partition, a.currency), a.id);
  }
  return (partition, currency) => cache.get(key(partition, currency));
}

/** The funding accounts of `partitions` in `currencies`. They never change: callers cache them. */
async function fundingAccounts(
  tx: Queryable,
  partitions: number[],
  currencies: string[],
): Promise<{ id: string; partition: number; currency: string }[]> {
  const r = await tx.query<{ id: string; partition: number; currency: string }>({
    name: "batch.funding-accounts",
    text: `SELECT id, partition, currency FROM wallets
           WHERE kind = 'funding' AND partition = ANY($1::int[]) AND currency = ANY($2::char(3)[])`,
    values: [partitions, currencies],
  });
  return r.rows;
}

/**
 * Locks the batch's wallets in one statement, `FOR NO KEY UPDATE`, each group in ascending id
 * order: one order for every runner removes deadlocks between them, and the mode is the weakest
 * that serialises writers (it does not block the `FOR KEY SHARE` locks of the foreign keys of
 * `holds`).
 *
 * The `head` wallets (the batch's oldest operation's) are waited for; then the `others` are
 * taken only if no other transaction holds them (`SKIP LOCKED`), and left out otherwise: the
 * batch applies what it can without them (batch-plan.ts, `applicableNow`). The `head` CTE is
 * read to its end before the `others` one starts (UNION ALL reads its branches in order), so
 * the only waits are for the head's wallets, while the batch holds no other wallet: no cycle of
 * waits can form. A row another batch changed and committed while this statement waited is
 * locked and returned in its latest version (READ COMMITTED's `FOR UPDATE` follows the update),
 * as a second statement would read it.
 */
export async function lockWallets(
  tx: Queryable,
  head: string[],
  others: string[],
): Promise<Map<string, LockedWallet>> {
  const first = [...new Set(head)].sort();
  const rest = [...new Set(others)].filter((id) => !first.includes(id)).sort();
  const r = await tx.query<{
    id: string;
    kind: "client" | "funding";
    balance: string;
    held: string;
    version: string;
  }>({
    name: "batch.lock-wallets",
    text: `WITH head AS MATERIALIZED (
             SELECT id, kind, balance, held_balance, version FROM wallets WHERE id = ANY($1::uuid[])
             ORDER BY id FOR NO KEY UPDATE
           ), others AS MATERIALIZED (
             SELECT id, kind, balance, held_balance, version FROM wallets WHERE id = ANY($2::uuid[])
             ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
           )
           SELECT id, kind, balance::text AS balance, held_balance::text AS held, version::text AS version FROM head
           UNION ALL
           SELECT id, kind, balance::text, held_balance::text, version::text FROM others`,
    values: [uuidArray(first), uuidArray(rest)],
  });
  return new Map(
    r.rows.map((w) => [
      w.id,
      {
        id: w.id,
        kind: w.kind,
        balance: BigInt(w.balance),
        held: BigInt(w.held),
        version: BigInt(w.version),
      },
    ]),
  );
}

/** What a batch's final write changed: the operations it completed and the webhook deliveries it wrote. */
export interface Completed {
  ids: string[];
  /** Delivery rows written for those operations (one per subscribed live endpoint of the submitter). */
  deliveries: number;
}

export interface OutcomeRow {
  id: string;
  status: "succeeded" | "failed";
  failureCode: string | null;
  failureMessage: string | null;
}

/**
 * The CTE that writes webhook deliveries for the operations the `outcomes` CTE completed: one
 * per live endpoint of the submitting client subscribed to the outcome (docs/design.md step 5).
 * Deliveries are written here, in the money transaction, rather than flagging operations "to
 * notify" for a later pass: the rows exist exactly when the outcome commits (a crash or a Redis
 * flush cannot separate them), no second scan of operations is needed, and each sender claims
 * ready-made rows. The live endpoints of the batch's clients are read once (`subscribed`,
 * materialized: one probe of the partial index per client, not per operation), so a batch whose
 * clients have no endpoints costs one probe and no row. Nothing else about webhooks
 * happens in this transaction (no HTTP, no endpoint lock). Only operations this statement
 * completed get deliveries (`RETURNING`), so a second runner after a false stall writes none twice.
 */
const NOTIFY = `subscribed AS MATERIALIZED (
    SELECT e.id, e.client_id, e.events
    FROM webhook_endpoints AS e
    WHERE e.client_id = ANY (ARRAY(SELECT DISTINCT client_id FROM outcomes)) AND e.deleted_at IS NULL
  ), notified AS (
    INSERT INTO webhook_deliveries (id, endpoint_id, operation_id, event_type, next_attempt_at)
    SELECT ${UUID_V7_SQL}, e.id, outcomes.id, 'operation.' || outcomes.status, now()
    FROM outcomes
    JOIN subscribed AS e
      ON e.client_id = outcomes.client_id AND ('operation.' || outcomes.status) = ANY (e.events)
    RETURNING 1
  )`;

/**
 * Sets the final statuses from the four outcome arrays (parameters `$first` to `$first + 3`),
 * takes the completed operations out of the partition's queue (`pending_operations`), writes
 * their webhook deliveries ({@link NOTIFY}) and ends in the CTE `outcomes`: one row per
 * operation this statement completed, and `dequeued`: one per queue row it deleted.
 *
 * Still pending is asked as `completed_at IS NULL` (the CHECK `operations_completed_iff_final`).
 * The update changes no indexed column, so it is HOT (the table's fillfactor leaves room on the
 * page) and writes no index entry.
 *
 * Written so that the guard's estimate cannot make it quadratic. Operations are read by the
 * primary key (`id = ANY`), one probe each. The guard is a condition of the join (`OR v.id IS
 * NULL`, never true), not of `operations` alone: statistics from an ANALYZE that saw hardly any
 * pending operation, the usual case, estimate the guarded read at one row. The planner then
 * scanned `operations` for every pending operation, of all partitions, and compared each with
 * every row of the batch: 2,000 × 400 in test/integration/batch-backlog.test.ts, up to 690 ms a
 * batch in `write-path.ts` (docs/performance.md).
 *
 * The queue rows go the same way. With `queuedAt` (the parameter of the rows' addresses, as
 * {@link readPending} read them in this transaction, in the arrays' order) they are deleted at
 * those addresses: a TID scan, the only plan the batch's sessions leave it (`BATCH_SETTINGS`,
 * shared/db/client.ts), whatever the queue's statistics say. Joined to `outcomes` by key instead,
 * the queue estimated at one row (its last VACUUM found it drained, the usual case) was read whole
 * and compared with every operation of the batch: 3,000 × 190 rows, 172 ms for one batch
 * (docs/performance.md, "The queue's statistics"). Without addresses (an operation set aside in a
 * transaction of its own, {@link setOutcomes}) the rows are deleted by key.
 */
const outcomes = (first: number, queuedAt?: number): string => `outcomes AS (
    UPDATE operations AS o
    SET status = v.status, failure_code = v.code, failure_message = v.message,
        completed_at = (SELECT at FROM stamp)
    FROM unnest($${first}::uuid[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[]${
      queuedAt ? `, $${queuedAt}::text[]::tid[]` : ""
    }) AS v(id, status, code, message${queuedAt ? ", queued_at" : ""})
    WHERE o.id = v.id AND o.id = ANY ($${first}::uuid[]) AND (o.completed_at IS NULL OR v.id IS NULL)
    RETURNING o.id, o.client_id, o.status, ${queuedAt ? "v.queued_at" : "o.partition, o.seq"}
  ), dequeued AS (
    DELETE FROM pending_operations AS p
    ${
      queuedAt
        ? "WHERE p.ctid = ANY (ARRAY(SELECT queued_at FROM outcomes))"
        : "USING outcomes WHERE p.partition = outcomes.partition AND p.seq = outcomes.seq"
    }
    RETURNING 1
  ), ${NOTIFY}`;

/**
 * The one row every write returns: the ids it completed, the queue rows it deleted, its
 * deliveries, its entries and refunded originals.
 */
const summary = (entries: string, refunded: string): string => `
  SELECT coalesce(array_agg(id::text), '{}') AS ids, (SELECT count(*)::int FROM dequeued) AS dequeued,
         (SELECT count(*)::int FROM notified) AS deliveries, ${entries}::int AS entries,
         ${refunded}::int AS refunded
  FROM outcomes`;

/**
 * One instant for the whole write, taken after the batch's locks: `clock_timestamp()`, not
 * `now()`, which is when the transaction began. A batch that began first may have waited for a
 * wallet that a later batch locked, posted and committed meanwhile; stamped with `now()` its
 * entries would be dated before that batch's while coming after them in the wallet's versions.
 * Taken under the lock, every wallet's entries are dated in their posting order (`balance?at=`
 * relies on it), and an operation's `completed_at` is its entries' `created_at`.
 */
const STAMP = "stamp AS (SELECT clock_timestamp() AS at)";

/**
 * Entries take their references from the rows this statement updates (`entries` has no foreign
 * keys: see its schema): each is joined to its wallet's row in `balances` and its operation's in
 * `outcomes`, and the caller raises unless every entry was posted.
 */
const WRITE_BATCH = `
  WITH ${STAMP}, balances AS (
    UPDATE wallets AS w
    SET balance = v.balance, held_balance = v.held, version = v.version, updated_at = (SELECT at FROM stamp)
    FROM unnest($7::uuid[], $8::bigint[], $9::bigint[], $10::bigint[]) AS v(id, balance, held, version)
    WHERE w.id = v.id
    RETURNING w.id
  ), held AS (
    -- Holds placed by the batch are inserted, holds it resolved updated; a hold placed and
    -- resolved in one batch is inserted resolved.
    INSERT INTO holds (operation_id, from_wallet_id, to_wallet_id, amount, status, expires_at, captured_amount,
                       released_at)
    -- The expiry is the hold operation's own (microseconds; a JavaScript Date keeps milliseconds).
    SELECT h.id, h.from_id, h.to_id, h.amount, h.status, o.expires_at, h.captured,
           CASE WHEN h.status = 'active' THEN NULL ELSE stamp.at END
    FROM unnest($11::uuid[], $12::uuid[], $13::uuid[], $14::bigint[], $15::text[], $16::bigint[])
      AS h(id, from_id, to_id, amount, status, captured)
    JOIN operations AS o ON o.id = h.id, stamp
    ON CONFLICT (operation_id) DO UPDATE
    SET status = excluded.status, captured_amount = excluded.captured_amount, released_at = excluded.released_at
  ), refunded AS (
    -- The originals' refunded sums, under the batch's lock of them (original-repo.ts).
    UPDATE operations AS o SET refunded_amount = v.refunded
    FROM unnest($21::uuid[], $22::bigint[]) AS v(id, refunded)
    WHERE o.id = v.id
    RETURNING 1
  ), ${outcomes(17, 23)}, posted AS (
    INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version, created_at)
    SELECT u.id, outcomes.id, balances.id, u.amount, u.balance_after, u.wallet_version, stamp.at
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[])
      AS u(id, operation_id, wallet_id, amount, balance_after, wallet_version)
    JOIN outcomes ON outcomes.id = u.operation_id
    JOIN balances ON balances.id = u.wallet_id
    CROSS JOIN stamp
    RETURNING 1
  ) ${summary("(SELECT count(*) FROM posted)", "(SELECT count(*) FROM refunded)")}`;

/**
 * Writes a batch's entries, balances, held amounts, versions, holds, refunded sums, final
 * statuses, queue removals and webhook deliveries in one statement (seven data-modifying CTEs:
 * one round trip inside the lock window), for operations `pending` read in this transaction.
 * Throws unless every entry and refunded sum was written and every completed operation left the
 * queue.
 */
export async function writeBatch(
  tx: Queryable,
  pending: readonly PendingOperation[],
  result: {
    entries: EntryDraft[];
    changedWallets: LockedWallet[];
    changedHolds: HoldState[];
    changedRefundables: Refundable[];
    outcomes: Outcome[];
  },
  failureMessages: Record<string, string>,
): Promise<Completed> {
  const { entries, changedWallets, changedHolds, changedRefundables, outcomes } = result;
  const queuedAt = new Map(pending.map((op) => [op.id, op.queuedAt]));
  const rows: OutcomeRow[] = outcomes.map((o) => ({
    id: o.operationId,
    status: o.status,
    failureCode: o.status === "failed" ? o.failureCode : null,
    failureMessage: o.status === "failed" ? (failureMessages[o.failureCode] ?? null) : null,
  }));
  const r = await tx.query<Summary>({
    name: "batch.write",
    text: WRITE_BATCH,
    values: [
      newIdArray(entries.length),
      uuidArray(entries.map((e) => e.operationId)),
      uuidArray(entries.map((e) => e.walletId)),
      int8Array(entries.map((e) => e.amount)),
      int8Array(entries.map((e) => e.balanceAfter)),
      int8Array(entries.map((e) => e.walletVersion)),
      uuidArray(changedWallets.map((w) => w.id)),
      int8Array(changedWallets.map((w) => w.balance)),
      int8Array(changedWallets.map((w) => w.held)),
      int8Array(changedWallets.map((w) => w.version)),
      uuidArray(changedHolds.map((h) => h.id)),
      uuidArray(changedHolds.map((h) => h.fromWalletId)),
      uuidArray(changedHolds.map((h) => h.toWalletId)),
      int8Array(changedHolds.map((h) => h.amount)),
      textArray(changedHolds.map((h) => h.status)),
      int8Array(changedHolds.map((h) => h.capturedAmount)),
      ...outcomeArrays(rows),
      uuidArray(changedRefundables.map((o) => o.id)),
      int8Array(changedRefundables.map((o) => o.refunded)),
      textArray(rows.map((o) => queuedAt.get(o.id) ?? null)),
    ],
  });
  return checked(r.rows[0] as Summary, entries.length, changedRefundables.length);
}

/**
 * The write's summary, unless it posted other than `entries` entries or `refunded` refunded sums,
 * or took other than the operations it completed out of the queue: only if an entry's wallet or
 * operation, or a refunded original, was not updated by the statement (the database's side of
 * the guarantee foreign keys gave), or a completed operation's queue row was not where the batch
 * read it. Never in a correct batch; the statement is then rolled back with its transaction.
 */
function checked(written: Summary, entries: number, refunded: number): Completed {
  if (
    written.entries !== entries ||
    written.refunded !== refunded ||
    written.dequeued !== written.ids.length
  ) {
    throw new Error(
      `batch write posted ${written.entries} of ${entries} entries, ${written.refunded} of ${refunded} refunded sums, dequeued ${written.dequeued} of ${written.ids.length} operations`,
    );
  }
  return { ids: written.ids, deliveries: written.deliveries };
}

/** {@link summary}'s row. */
interface Summary {
  ids: string[];
  dequeued: number;
  deliveries: number;
  entries: number;
  refunded: number;
}

const outcomeArrays = (rows: OutcomeRow[]) => [
  uuidArray(rows.map((o) => o.id)),
  textArray(rows.map((o) => o.status)),
  textArray(rows.map((o) => o.failureCode)),
  textArray(rows.map((o) => o.failureMessage)),
];

/** Sets final statuses of still-pending operations (no entries) and writes their webhook deliveries. */
export async function setOutcomes(tx: Queryable, rows: OutcomeRow[]): Promise<Completed> {
  if (rows.length === 0) return { ids: [], deliveries: 0 };
  const r = await tx.query<Summary>({
    name: "batch.set-outcomes",
    text: `WITH ${STAMP}, ${outcomes(1)} ${summary("0", "0")}`,
    values: outcomeArrays(rows),
  });
  return checked(r.rows[0] as Summary, 0, 0);
}
