import { requestHash } from "../../shared/canonical.ts";
import type { Queryable } from "../../shared/db/client.ts";
import { findByIdempotencyKeys, idempotencyScope } from "../../shared/db/operation-batch-repo.ts";
import type { Operation } from "../../shared/db/schema/index.ts";
import { ApiError } from "../../shared/errors.ts";
import type { TopUpBody, TransferBody } from "../../shared/http/schemas.ts";
import { newId } from "../../shared/ids.ts";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";
import type { AcceptBatcher } from "./accept-batcher.ts";
import type { Backpressure } from "./backpressure.ts";
import { CoalescingLoader } from "./coalescing-loader.ts";
import type { WalletFactsCache } from "./wallet-facts.ts";

export type OperationRequest = ({ type: "top_up" } & TopUpBody) | ({ type: "transfer" } & TransferBody);

export interface AcceptDeps {
  walletFacts: WalletFactsCache;
  /** Inserts with the next group of concurrent accepts, then rings the group's doorbells. */
  batcher: Pick<AcceptBatcher, "submit">;
  /** The operation holding a client's idempotency key, if any ({@link keyLookup}). */
  findByKey: (clientId: string, idempotencyKey: string) => Promise<Operation | undefined>;
  backpressure: Pick<Backpressure, "enter" | "refusal">;
  metrics: Pick<ApiMetrics, "accepted" | "refused">;
}

export interface Accepted {
  operation: Operation;
  replayed: boolean;
}

interface Route {
  partition: number;
  currency: string;
  fromWalletId: string | null;
  toWalletId: string;
}

/**
 * Accepts a top-up or a transfer: checks wallets from the immutable-facts cache, inserts the
 * pending operation under the client's idempotency key (the unique index decides) with the
 * group of concurrent accepts, whose doorbells are rung once the group committed. Checks run in
 * API.md's order: a replay answers before the wallet checks and before backpressure, so on a
 * wallet error or when overloaded the key is looked up first.
 */
export async function acceptOperation(
  deps: AcceptDeps,
  clientId: string,
  idempotencyKey: string,
  request: OperationRequest,
): Promise<Accepted> {
  const hash = requestHash(request);
  let route: Route;
  try {
    route = await resolveRoute(deps.walletFacts, clientId, request);
  } catch (err) {
    const existing = await deps.findByKey(clientId, idempotencyKey);
    if (existing) return replay(existing, hash);
    throw err;
  }

  // Backpressure, last of the checks (API.md): sampled state, no I/O unless overloaded, where a
  // replay is still answered and nothing new is created. A refused request is not in flight:
  // its key look-up is coalesced with the others' (a few statements however many are refused).
  const refusal = deps.backpressure.refusal();
  if (refusal) {
    const existing = await deps.findByKey(clientId, idempotencyKey);
    if (existing) return replay(existing, hash);
    deps.metrics.refused(refusal.reason);
    throw new ApiError("overloaded", refusal.detail, { retryAfter: refusal.retryAfter });
  }

  const leave = deps.backpressure.enter();
  let outcome: Awaited<ReturnType<AcceptBatcher["submit"]>>;
  try {
    outcome = await deps.batcher.submit({
      id: newId(),
      clientId,
      type: request.type,
      amount: BigInt(request.amount),
      currency: route.currency,
      fromWalletId: route.fromWalletId,
      toWalletId: route.toWalletId,
      metadata: request.metadata,
      partition: route.partition,
      idempotencyKey,
      requestHash: hash,
    });
  } finally {
    leave();
  }
  if ("inserted" in outcome) {
    deps.metrics.accepted(request.type);
    return { operation: outcome.inserted, replayed: false };
  }
  return replay(outcome.existing, hash);
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

const walletNotFound = (field: string) =>
  new ApiError("wallet_not_found", `No wallet with this id (${field}) is available to this client.`);

async function resolveRoute(
  facts: WalletFactsCache,
  clientId: string,
  request: OperationRequest,
): Promise<Route> {
  if (request.type === "top_up") {
    const wallet = await facts.get(request.walletId);
    if (wallet?.kind !== "client" || wallet.clientId !== clientId) throw walletNotFound("walletId");
    return {
      partition: wallet.partition,
      currency: wallet.currency,
      fromWalletId: null,
      toWalletId: wallet.id,
    };
  }
  const [from, to] = await Promise.all([facts.get(request.fromWalletId), facts.get(request.toWalletId)]);
  if (from?.kind !== "client" || from.clientId !== clientId) throw walletNotFound("fromWalletId");
  if (to?.kind !== "client") throw walletNotFound("toWalletId");
  if (from.currency !== to.currency) {
    throw new ApiError(
      "currency_mismatch",
      `The source wallet holds ${from.currency} and the destination ${to.currency}; a transfer needs one currency.`,
    );
  }
  return { partition: from.partition, currency: from.currency, fromWalletId: from.id, toWalletId: to.id };
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
