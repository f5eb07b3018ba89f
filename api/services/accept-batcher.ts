import type pg from "pg";
import type { Logger } from "pino";
import {
  findByIdempotencyKeys,
  idempotencyScope,
  insertPendingMany,
  type NewPendingOperation,
  type WalletRefusal,
} from "../../shared/db/operation-batch-repo.ts";
import { isTransientDbError } from "../../shared/db/pg-errors.ts";
import type { Operation } from "../../shared/db/schema/index.ts";
import { errorSummary } from "../../shared/log-safe.ts";
import {
  insertOnOwnConnection,
  LostInsert,
  NothingCreated,
  outcomeUnknown,
  reconcileLostInsert,
} from "./lost-insert.ts";

/**
 * The row was inserted (a new operation, by transaction `xid`; undefined when it was read back
 * after a lost insert), its idempotency key already held `existing`, or the insert refused it by
 * its wallets, for this reason (nothing created).
 */
export type InsertOutcome =
  | { inserted: Operation; xid: bigint | undefined }
  | { existing: Operation }
  | { refused: WalletRefusal };
/** A row's outcome, or the error that is its answer instead. */
export type RowResult = InsertOutcome | { failed: unknown };

/**
 * Group inserts in flight at once, by default: the size of the api's accept pool (start-api.ts).
 * Two: one group commits (its WAL flush) while the next one inserts, and under load the groups
 * grow rather than more of them running at once beside the runners' batches (four took more of
 * Postgres's CPU per operation in bulk: docs/performance.md, "Accept inserts in flight").
 */
export const ACCEPT_GROUPS_IN_FLIGHT = 2;

export interface AcceptBatcherDeps {
  /** The accept pool: at least `maxInFlight` connections, with WRITE_PATH_SETTINGS (client.ts). */
  db: pg.Pool;
  /** Rings the doorbells of these partitions (one pipelined round trip); may fail (Redis away). */
  ring: (partitions: number[]) => Promise<void>;
  /** Test seam: runs after an operation's insert committed, before its doorbell. */
  afterInsert?: (operation: Operation) => Promise<void>;
  log: Logger;
  /** Most rows in one insert statement. */
  maxGroup?: number;
  /** Most group inserts in flight at once (each holds one pooled connection). */
  maxInFlight?: number;
}

interface Waiter {
  row: NewPendingOperation;
  resolve: (outcome: InsertOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Groups concurrent accepts into one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`
 * (docs/design.md, step 1). Requests that arrive while up to `maxInFlight`
 * groups are in flight wait and leave together in the next group, so the group grows with the
 * load (group commit) and a lone request waits only for the end of its event-loop turn.
 *
 * Idempotency stays exact: of requests with equal (client, key) the statement inserts the first
 * its wallets do not refuse, and the later ones are answered with its row (the caller compares
 * request hashes: a replay, or a 422 for a different body), exactly as if they had lost the
 * unique-index race; the earlier ones, refused, get their own errors. Rows that lose to an
 * operation already in the table get that winner, read in one statement for the group, refused
 * ones too (a replay answers before the wallet checks). A group whose insert fails for a reason
 * other than a transient one is retried key by key, so one bad row fails alone.
 */
export class AcceptBatcher {
  private readonly deps: AcceptBatcherDeps;
  private readonly maxGroup: number;
  private readonly maxInFlight: number;
  /** Submissions waiting for a group, in arrival order; a bulk's rows are one block, never split. */
  private queue: Waiter[][] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(deps: AcceptBatcherDeps) {
    this.deps = deps;
    // 500 rows × 13 arrays keep a statement well under 100 kB of parameters (a bulk of up to
    // 1,000 rows is one group of its own).
    this.maxGroup = deps.maxGroup ?? 500;
    this.maxInFlight = deps.maxInFlight ?? ACCEPT_GROUPS_IN_FLIGHT;
  }

  /** Inserts `row` with the next group; resolves once it is durable and its doorbell was rung. */
  async submit(row: NewPendingOperation): Promise<InsertOutcome> {
    const [result] = await this.submitMany([row]);
    if (!result || "failed" in result) throw result?.failed;
    return result;
  }

  /**
   * Inserts `rows` together, in this order, in one group (a bulk submission: its sequence
   * numbers follow the array, whatever else joins the group), each row answered on its own:
   * its outcome, or why it has none (`failed`), so that one row's failure is its own answer.
   */
  async submitMany(rows: NewPendingOperation[]): Promise<RowResult[]> {
    if (rows.length === 0) return [];
    const block: Waiter[] = [];
    const outcomes = rows.map(
      (row) =>
        new Promise<InsertOutcome>((resolve, reject) => {
          block.push({ row, resolve, reject });
        }),
    );
    this.queue.push(block);
    this.schedule();
    return (await Promise.allSettled(outcomes)).map((r) =>
      r.status === "fulfilled" ? r.value : { failed: r.reason as unknown },
    );
  }

  /** The next group: whole blocks, up to `maxGroup` rows (a larger block alone). */
  private nextGroup(): Waiter[] {
    const group: Waiter[] = [];
    while (this.queue.length > 0) {
      const block = this.queue[0] as Waiter[];
      if (group.length > 0 && group.length + block.length > this.maxGroup) break;
      group.push(...block);
      this.queue.shift();
    }
    return group;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // After the current I/O phase: every request parsed in this turn joins the group.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
        const group = this.nextGroup();
        this.inFlight++;
        // The slot is held for the insert only: the next group's insert overlaps this one's ring.
        void this.insertGroup(group).then((deliver) => {
          this.inFlight--;
          this.schedule();
          return deliver();
        });
      }
    });
  }

  /** Equal idempotency scopes together, in arrival order. */
  private static byKey(group: Waiter[]): Waiter[][] {
    const byScope = new Map<string, Waiter[]>();
    for (const w of group) {
      const scope = idempotencyScope(w.row.clientId, w.row.idempotencyKey);
      const same = byScope.get(scope);
      if (same) same.push(w);
      else byScope.set(scope, [w]);
    }
    return [...byScope.values()];
  }

  /**
   * Inserts the group and reads the winners of keys already taken; returns what is left to do
   * outside the insert slot (ring, then answer). Never rejects: failures reject the waiters, each
   * with an answer that is true of its row (lost-insert.ts): a transient refusal says nothing
   * was created; a lost connection is reconciled by reading the keys back.
   */
  private async insertGroup(group: Waiter[]): Promise<() => Promise<void>> {
    const keys = AcceptBatcher.byKey(group);
    const rows = group.map((w) => w.row);
    let inserted: Map<string, Operation>;
    /** Rows refused by their wallets (unknown after a lost insert: those rows were not created). */
    let refused = new Map<string, WalletRefusal>();
    /** The inserting transaction, when known. */
    let xid: bigint | undefined;
    /** Operations already holding keys of the group (the lost ones are read back with them). */
    let winners: Map<string, Operation> | undefined;
    try {
      ({ inserted, refused, xid } = await insertOnOwnConnection(this.deps.db, (client) =>
        insertPendingMany(client, rows),
      ));
    } catch (err) {
      if (err instanceof LostInsert) {
        this.deps.log.warn(
          { rows: rows.length, err: errorSummary(err.cause) },
          "accept insert lost; reading back",
        );
        winners = await reconcileLostInsert(this.deps.db, err, rows);
        if (!winners) {
          for (const w of group) w.reject(outcomeUnknown());
          return async () => {};
        }
        // Rows the lost statement did insert are answered (and rung) as inserted.
        inserted = new Map(
          [...winners.values()].filter((op) => rows.some((r) => r.id === op.id)).map((op) => [op.id, op]),
        );
      } else if (keys.length > 1 && !isTransientDbError(err)) {
        this.deps.log.warn(
          { rows: rows.length, err: errorSummary(err) },
          "group insert failed; retrying key by key",
        );
        const deliveries: (() => Promise<void>)[] = [];
        for (const same of keys) deliveries.push(await this.insertGroup(same));
        return async () => {
          for (const deliver of deliveries) await deliver();
        };
      } else {
        const answer = isTransientDbError(err) ? new NothingCreated() : err;
        for (const w of group) w.reject(answer);
        return async () => {};
      }
    }

    let winnersError: unknown;
    const lost = keys.filter((same) => !same.some((w) => inserted.has(w.row.id)));
    if (lost.length > 0 && !winners) {
      try {
        winners = await findByIdempotencyKeys(
          this.deps.db,
          lost.map((same) => (same[0] as Waiter).row),
        );
      } catch (err) {
        winnersError = err;
      }
    }

    return async () => {
      try {
        if (inserted.size > 0) await this.announce([...inserted.values()]);
      } catch (err) {
        for (const w of group) w.reject(err);
        return;
      }
      for (const same of keys) {
        const at = same.findIndex((w) => inserted.has(w.row.id));
        if (at >= 0) {
          const mine = inserted.get((same[at] as Waiter).row.id) as Operation;
          same.forEach((w, i) => {
            // The rows before it were refused (it is the first that was not).
            const refusal = i < at ? refused.get(w.row.id) : undefined;
            if (refusal) w.resolve({ refused: refusal });
            else w.resolve(i === at ? { inserted: mine, xid } : { existing: mine });
          });
          continue;
        }
        const first = (same[0] as Waiter).row;
        const winner = winners?.get(idempotencyScope(first.clientId, first.idempotencyKey));
        // No winner after a lost insert read back: that row was not created.
        const failure = winnersError ?? (winners ? new NothingCreated() : new Error("no winning row"));
        for (const w of same) {
          const refusal = refused.get(w.row.id);
          if (winner) w.resolve({ existing: winner });
          else if (refusal) w.resolve({ refused: refusal });
          else w.reject(failure);
        }
      }
    };
  }

  /** The test seam, then one ring for the group's partitions. */
  private async announce(operations: Operation[]): Promise<void> {
    if (this.deps.afterInsert) for (const op of operations) await this.deps.afterInsert(op);
    const partitions = [...new Set(operations.map((op) => op.partition))];
    try {
      await this.deps.ring(partitions);
    } catch (err) {
      // Durable already: the sweeper rings partitions whose operations wait past the grace period.
      this.deps.log.warn({ partitions, err: errorSummary(err) }, "doorbell not rung");
    }
  }
}
