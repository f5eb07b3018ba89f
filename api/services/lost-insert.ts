import type pg from "pg";
import { findByIdempotencyKeys, type NewPendingOperation } from "../../shared/db/operation-batch-repo.ts";
import { isConnectionError } from "../../shared/db/pg-errors.ts";
import type { Operation } from "../../shared/db/schema/index.ts";
import { withCheckedOutClient } from "../../shared/db/transaction.ts";
import { ApiError } from "../../shared/errors.ts";
import { retrying } from "../../shared/retry.ts";

/**
 * How long an accept whose insert lost its connection waits for the database to answer again
 * before it tells the client the outcome is unknown, ms. Within a request's patience; a Postgres
 * restart takes a few seconds.
 */
export const RECONCILE_BUDGET_MS = 10_000;

/** Pause between two attempts to reach the database after a lost insert, ms (doubling from 100). */
const MAX_PAUSE_MS = 1_000;

/**
 * The insert's statement was sent and its answer never came (the connection was reset or went
 * silent): it may have committed or not. Carries the lost session's backend pid, to end it.
 */
export class LostInsert extends Error {
  readonly backendPid: number;
  constructor(cause: unknown, backendPid: number) {
    super("the connection was lost during the accept insert", { cause });
    this.name = "LostInsert";
    this.backendPid = backendPid;
  }
}

/**
 * Nothing of the request was created: the database refused the insert with an error (the
 * statement rolled back), could not be reached before it was sent, or was read back afterwards
 * without it. A retry under the same key is a new attempt.
 */
export class NothingCreated extends ApiError {
  constructor() {
    super(
      "overloaded",
      "The database was briefly unavailable and nothing was created. Retry with the same Idempotency-Key.",
      { retryAfter: 1 },
    );
  }
}

/**
 * The insert's connection was lost and the database did not answer again within
 * {@link RECONCILE_BUDGET_MS}: the operation may exist. The answer says so (never "nothing was
 * created": a client that believed it and paid again under a new key would pay twice).
 */
export const outcomeUnknown = (): ApiError =>
  new ApiError(
    "overloaded",
    "The database stopped answering while this request was being accepted, so it may or may not have been accepted. Retry with the same Idempotency-Key: that answers with the operation if it exists, and creates it once if it does not.",
    { retryAfter: 1 },
  );

/**
 * Runs the group insert on a connection of its own, so that a lost answer can be told from a
 * refusal: an error before the statement was sent, or one the server answered with, rolled it
 * back; a connection lost after it was sent ({@link LostInsert}) leaves its outcome unknown.
 */
export async function insertOnOwnConnection<T>(
  pool: pg.Pool,
  insert: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  /** Set once a connection was had: an error before that sent nothing. */
  let pid: number | undefined;
  try {
    return await withCheckedOutClient(pool, (client) => {
      pid = backendPid(client);
      return insert(client);
    });
  } catch (err) {
    if (pid !== undefined && isConnectionError(err)) throw new LostInsert(err, pid);
    throw err;
  }
}

/** The session's server process id (pg keeps it from BackendKeyData; its types do not declare it). */
const backendPid = (client: pg.PoolClient): number => (client as unknown as { processID: number }).processID;

/**
 * What a lost insert left: the operations now holding its rows' keys, by idempotency scope, or
 * undefined if the database did not answer within {@link RECONCILE_BUDGET_MS}. First the lost
 * session is ended, if it still runs (a network fault, not a restart, may have left it executing
 * the insert): once it is gone, what the keys read back can no longer change. A row absent from
 * the map was not created.
 */
export async function reconcileLostInsert(
  pool: pg.Pool,
  lost: LostInsert,
  rows: NewPendingOperation[],
): Promise<Map<string, Operation> | undefined> {
  const deadline = performance.now() + RECONCILE_BUDGET_MS;
  try {
    return await retrying(
      async () => {
        await pool.query(
          `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
           WHERE pid = $1 AND pid <> pg_backend_pid() AND usename = current_user
             AND application_name = current_setting('application_name')`,
          [lost.backendPid],
        );
        return await findByIdempotencyKeys(pool, rows);
      },
      { firstMs: 100, maxMs: MAX_PAUSE_MS },
      () => Math.max(0, deadline - performance.now()) || false,
    );
  } catch {
    return undefined;
  }
}
