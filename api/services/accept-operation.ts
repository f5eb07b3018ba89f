import type { Logger } from "pino";
import { requestHash } from "../../shared/canonical.ts";
import type { Database } from "../../shared/db/client.ts";
import { findByIdempotencyKey, insertPending } from "../../shared/db/operation-repo.ts";
import type { Operation } from "../../shared/db/schema/index.ts";
import { ApiError } from "../../shared/errors.ts";
import type { TopUpBody, TransferBody } from "../../shared/http/schemas.ts";
import { newId } from "../../shared/ids.ts";
import { errorSummary } from "../../shared/log-safe.ts";
import type { ApiMetrics } from "../../shared/metrics/api-metrics.ts";
import type { Backpressure } from "./backpressure.ts";
import type { WalletFactsCache } from "./wallet-facts.ts";

export type OperationRequest = ({ type: "top_up" } & TopUpBody) | ({ type: "transfer" } & TransferBody);

export interface AcceptDeps {
  db: Database;
  walletFacts: WalletFactsCache;
  /** Rings the doorbell of a partition; may fail (Redis away): the operation is durable anyway. */
  ring: (partition: number) => Promise<void>;
  /** Test seam: runs after the insert committed, before the doorbell (a crash there is the sweeper's job). */
  afterInsert?: (operation: Operation) => Promise<void>;
  backpressure: Pick<Backpressure, "enter" | "refusal">;
  metrics: Pick<ApiMetrics, "accepted" | "refused">;
  log: Logger;
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
 * pending operation under the client's idempotency key (the unique index decides), then rings
 * the partition's doorbell. Checks run in API.md's order: a replay answers before the wallet
 * checks and before backpressure, so on a wallet error or when overloaded the key is looked up
 * first.
 */
export async function acceptOperation(
  deps: AcceptDeps,
  clientId: string,
  idempotencyKey: string,
  request: OperationRequest,
): Promise<Accepted> {
  const leave = deps.backpressure.enter();
  try {
    return await accept(deps, clientId, idempotencyKey, request);
  } finally {
    leave();
  }
}

async function accept(
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
    const existing = await findByIdempotencyKey(deps.db, clientId, idempotencyKey);
    if (existing) return replay(existing, hash);
    throw err;
  }

  // Backpressure, last of the checks (API.md): sampled state, no I/O unless overloaded, where a
  // replay is still answered and nothing new is created.
  const refusal = deps.backpressure.refusal();
  if (refusal) {
    const existing = await findByIdempotencyKey(deps.db, clientId, idempotencyKey);
    if (existing) return replay(existing, hash);
    deps.metrics.refused(refusal.reason);
    throw new ApiError("overloaded", refusal.detail, { retryAfter: refusal.retryAfter });
  }

  const inserted = await insertPending(deps.db, {
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
  if (!inserted) {
    const winner = await findByIdempotencyKey(deps.db, clientId, idempotencyKey);
    if (!winner) throw new Error("idempotency conflict without a winning row");
    return replay(winner, hash);
  }

  await deps.afterInsert?.(inserted);
  try {
    await deps.ring(route.partition);
  } catch (err) {
    // Durable already: the sweeper rings partitions whose operations wait past the grace period.
    deps.log.warn({ partition: route.partition, err: errorSummary(err) }, "doorbell not rung");
  }
  deps.metrics.accepted(request.type);
  return { operation: inserted, replayed: false };
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
