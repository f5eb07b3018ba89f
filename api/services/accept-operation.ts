import type { Logger } from "pino";
import { requestHash } from "../../shared/canonical.ts";
import type { Queryable } from "../../shared/db/client.ts";
import type { NewPendingOperation } from "../../shared/db/operation-batch-repo.ts";
import {
  findByIdempotencyKeys,
  idempotencyScope,
  type WalletRefusal,
  walletRefusals,
} from "../../shared/db/operation-batch-repo.ts";
import type { Hold, Operation } from "../../shared/db/schema/index.ts";
import { ApiError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import { errorSummary } from "../../shared/log-safe.ts";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";
import { type OperationRequest, placeRequest } from "../../shared/operation-types/catalog.ts";
import type { Lookups, Placement } from "../../shared/operation-types/define.ts";
import { walletRefusalError } from "../../shared/operation-types/placement.ts";
import type { AcceptBatcher, InsertOutcome, RowResult } from "./accept-batcher.ts";
import type { Backpressure, Refusal } from "./backpressure.ts";
import { CoalescingLoader } from "./coalescing-loader.ts";
import { NothingCreated } from "./lost-insert.ts";

export interface AcceptDeps {
  /** What a type's placement reads: holds, refunds' originals ({@link acceptLookups}). */
  lookups: Lookups;
  /** Inserts with the next group of concurrent accepts, then rings the group's doorbells. */
  batcher: Pick<AcceptBatcher, "submit" | "submitMany">;
  /** The holds of these succeeded hold operations, by id (findHolds). */
  holds: (operationIds: string[]) => Promise<Map<string, Hold>>;
  /** The operation holding a client's idempotency key, if any ({@link keyLookup}). */
  findByKey: (clientId: string, idempotencyKey: string) => Promise<Operation | undefined>;
  /** Why the accept insert would refuse a row placed by its wallets, if it would ({@link refusalLookup}). */
  walletRefusal: (row: NewPendingOperation) => Promise<WalletRefusal | undefined>;
  backpressure: Pick<Backpressure, "enter" | "refusal">;
  metrics: Pick<ApiMetrics, "accepted" | "refused">;
  log: Pick<Logger, "error">;
}

export interface Accepted {
  operation: Operation;
  replayed: boolean;
  /** A replayed hold operation that succeeded: its hold now (a replay answers the current state). */
  hold?: Hold;
}

/**
 * Accepts an operation of any type: inserts the pending operation under the client's idempotency
 * key (the unique index decides) with the group of concurrent accepts, whose doorbells are rung
 * once the group committed; the insert checks the wallets of a placement by wallets, a type's
 * placement the rest. Checks run in docs/api.md's order: a replay answers before the wallet
 * checks and before backpressure, so on a refusal or when overloaded the key is looked up first,
 * and an overloaded accept's wallets are checked before it is refused.
 */
export async function acceptOperation(
  deps: AcceptDeps,
  clientId: string,
  idempotencyKey: string,
  request: OperationRequest,
): Promise<Accepted> {
  const [answer] = await withHolds(deps, [await acceptOne(deps, clientId, idempotencyKey, request)]);
  return answer as Accepted;
}

async function acceptOne(
  deps: AcceptDeps,
  clientId: string,
  idempotencyKey: string,
  request: OperationRequest,
): Promise<Accepted> {
  const prepared = await prepare(deps, clientId, idempotencyKey, request);
  if ("answer" in prepared) return prepared.answer;

  // Backpressure, last of the checks (docs/api.md): sampled state, no I/O unless overloaded, where a
  // replay is still answered and nothing new is created. A refused request is not in flight:
  // its key look-up is coalesced with the others' (a few statements however many are refused).
  const refusal = deps.backpressure.refusal();
  if (refusal) {
    const { row } = prepared;
    const existing = await deps.findByKey(clientId, idempotencyKey);
    if (existing) return replay(existing, row.requestHash);
    const walletRefusal = row.partition === null ? await deps.walletRefusal(row) : undefined;
    if (walletRefusal) throw walletRefusalError(row, walletRefusal);
    throw overloaded(deps, refusal);
  }

  const leave = deps.backpressure.enter();
  let outcome: InsertOutcome;
  try {
    outcome = await deps.batcher.submit(prepared.row);
  } catch (err) {
    leave(createdBy([{ failed: err }]));
    throw err;
  }
  leave(createdBy([outcome]));
  return settled(deps, prepared.row, outcome);
}

/**
 * The transactions that inserted these rows' operations (none for a row that created nothing),
 * or undefined when not known: an insert read back after a lost connection, or a failure that
 * does not say that nothing was created.
 */
function createdBy(outcomes: RowResult[]): bigint[] | undefined {
  const xids = new Set<bigint>();
  for (const o of outcomes) {
    if ("existing" in o || "refused" in o || ("failed" in o && o.failed instanceof NothingCreated)) continue;
    if ("failed" in o || o.xid === undefined) return undefined;
    xids.add(o.xid);
  }
  return [...xids];
}

/** The answers, each replayed hold that succeeded with its current hold (one read for all). */
async function withHolds<T extends Accepted | ApiError>(deps: AcceptDeps, answers: T[]): Promise<T[]> {
  const replayedHolds = answers.flatMap((a) =>
    !(a instanceof ApiError) &&
    a.replayed &&
    a.operation.type === "hold" &&
    a.operation.status === "succeeded"
      ? [a.operation.id]
      : [],
  );
  if (replayedHolds.length === 0) return answers;
  const holds = await deps.holds(replayedHolds);
  return answers.map((a) => {
    if (a instanceof ApiError) return a;
    const hold = holds.get(a.operation.id);
    return hold ? { ...a, hold } : a;
  });
}

/** One item of a bulk submission: its key and its parsed request, or why it was refused already. */
export type BulkItem = { idempotencyKey: string; request: OperationRequest } | { refused: ApiError };

/**
 * Accepts the items of a bulk submission (docs/api.md, "Bulk submission"), each as
 * {@link acceptOperation} would on its own, with the same checks and codes, and answers each:
 * the rows that pass are inserted together, in array order (`submitMany`), so items that
 * debit one wallet are applied in array order. Backpressure refuses the whole request before
 * any item's wallets are looked at, counting every item against the backlog bound (and the
 * request as one accept in flight), unless no item would create an operation
 * ({@link answeredOrRefused}). A later item under the key of an earlier one is that operation's
 * replay (or a 422 with another body), even when its own checks would have failed.
 */
export async function acceptMany(
  deps: AcceptDeps,
  clientId: string,
  items: BulkItem[],
): Promise<(Accepted | ApiError)[]> {
  const refusal = deps.backpressure.refusal(items.length);
  if (refusal) return withHolds(deps, await answeredOrRefused(deps, clientId, items, refusal));
  // Counted in the turn that checked, before anything is awaited: concurrent bulks see each
  // other's items. One accept in flight, as a single request (one request, one insert).
  const leave = deps.backpressure.enter(items.length);
  let prepared: (Prepared | { refused: ApiError })[];
  let outcomes: RowResult[] = [];
  try {
    prepared = await Promise.all(
      items.map((item): Promise<Prepared | { refused: ApiError }> => {
        if ("refused" in item) return Promise.resolve(item);
        return prepare(deps, clientId, item.idempotencyKey, item.request).catch((err: unknown) => {
          if (err instanceof ApiError) return { refused: err };
          throw err;
        });
      }),
    );
    outcomes = await deps.batcher.submitMany(prepared.flatMap((p) => ("row" in p ? [p.row] : [])));
  } finally {
    // Thrown before the rows were submitted (a look-up failed): nothing created.
    leave(createdBy(outcomes));
  }
  // Nothing was created for any row: the whole request is refused, as docs/api.md's 503 says. Else
  // each row is answered on its own, a failed one with its own error (lost-insert.ts).
  if (outcomes.length > 0 && outcomes.every((o) => "failed" in o && o.failed instanceof NothingCreated)) {
    throw (outcomes[0] as { failed: NothingCreated }).failed;
  }

  /** The operation each key was answered with so far in this request. */
  const byKey = new Map<string, Operation>();
  let next = 0;
  const answers = prepared.map((p, i) => {
    const item = items[i] as BulkItem;
    const key = "refused" in item ? undefined : item.idempotencyKey;
    let result: Accepted | ApiError;
    if ("row" in p) result = answer(() => settled(deps, p.row, outcomes[next++] as RowResult));
    else if ("answer" in p) result = p.answer;
    else {
      // Refused by its own checks, unless an earlier item took its key: then that operation answers.
      const earlier = key === undefined ? undefined : byKey.get(key);
      result =
        earlier && !("refused" in item)
          ? answer(() => replay(earlier, requestHash(item.request)))
          : p.refused;
    }
    if (key !== undefined && !(result instanceof ApiError) && !byKey.has(key))
      byKey.set(key, result.operation);
    return result;
  });
  return withHolds(deps, answers);
}

/**
 * An overloaded bulk: answered if none of its items would create an operation (each key taken
 * already, or the item refused by its own schema), as each item alone would be answered before
 * backpressure (a replay is never refused); refused whole otherwise, nothing created. Its keys
 * are looked up as refused single requests' are (coalesced), not its wallets: an item with a new
 * key refuses the bulk even where its own checks would have refused the item.
 */
async function answeredOrRefused(
  deps: AcceptDeps,
  clientId: string,
  items: BulkItem[],
  refusal: Refusal,
): Promise<(Accepted | ApiError)[]> {
  const existing = await Promise.all(
    items.map((item) => ("refused" in item ? undefined : deps.findByKey(clientId, item.idempotencyKey))),
  );
  return items.map((item, i) => {
    if ("refused" in item) return item.refused;
    const operation = existing[i];
    if (!operation) throw overloaded(deps, refusal);
    return answer(() => replay(operation, requestHash(item.request)));
  });
}

/** A bulk item's error for a row whose insert failed: its API error, or an internal one (logged). */
function itemError(deps: AcceptDeps, err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  deps.log.error({ err: errorSummary(err) }, "bulk item's insert failed");
  return new ApiError("internal_error", "An internal error occurred.");
}

/** The answer of `fn`, or the API error it threw. */
function answer(fn: () => Accepted): Accepted | ApiError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

/** An accept checked up to its insert: the row to insert, or its answer already (a replay found while refusing). */
type Prepared = { row: NewPendingOperation } | { answer: Accepted };

async function prepare(
  deps: AcceptDeps,
  clientId: string,
  idempotencyKey: string,
  request: OperationRequest,
): Promise<Prepared> {
  const hash = requestHash(request);
  let placement: Placement;
  try {
    placement = await placeRequest(request, deps.lookups, clientId);
  } catch (err) {
    const existing = await deps.findByKey(clientId, idempotencyKey);
    if (existing) return { answer: replay(existing, hash) };
    throw err;
  }
  const row = { id: newId(), clientId, type: request.type, ...placement, metadata: request.metadata };
  return { row: { ...row, idempotencyKey, requestHash: hash } };
}

/** The answer to an inserted row: a new operation, or the one its key already held. */
function settled(deps: AcceptDeps, row: NewPendingOperation, outcome: RowResult): Accepted {
  if ("failed" in outcome) throw itemError(deps, outcome.failed);
  if ("refused" in outcome) throw walletRefusalError(row, outcome.refused);
  if ("inserted" in outcome) {
    deps.metrics.accepted(row.type);
    return { operation: outcome.inserted, replayed: false };
  }
  return replay(outcome.existing, row.requestHash);
}

function overloaded(deps: AcceptDeps, refusal: Refusal): ApiError {
  deps.metrics.refused(refusal.reason);
  return new ApiError("overloaded", refusal.detail, { retryAfter: refusal.retryAfter });
}

function replay(existing: Operation, hash: string): Accepted {
  if (existing.requestHash !== hash) {
    throw new ApiError(
      "idempotency_key_reused",
      "This Idempotency-Key was already used with a different request; use a new key for a new request.",
    );
  }
  return { operation: existing, replayed: true };
}

/**
 * Looks up idempotency keys for the paths that must answer a replay before refusing (a wallet
 * error, overload): coalesced, one statement in flight, so a flood of refusals cannot take
 * the pool from the accepts.
 */
export function keyLookup(db: Queryable): AcceptDeps["findByKey"] {
  const loader = new CoalescingLoader<{ clientId: string; idempotencyKey: string }, Operation>({
    scope: (p) => idempotencyScope(p.clientId, p.idempotencyKey),
    loadMany: (pairs) => findByIdempotencyKeys(db, pairs),
  });
  return (clientId, idempotencyKey) => loader.load({ clientId, idempotencyKey });
}

/**
 * Asks the database whether the accept insert would refuse rows placed by their wallets, for
 * accepts refused when overloaded: coalesced like {@link keyLookup}.
 */
export function refusalLookup(db: Queryable): AcceptDeps["walletRefusal"] {
  const loader = new CoalescingLoader<NewPendingOperation, WalletRefusal>({
    scope: (row) => row.id,
    loadMany: (rows) => walletRefusals(db, rows),
  });
  return (row) => loader.load(row);
}
