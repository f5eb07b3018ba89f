import type { z } from "zod";
import type { HoldFacts } from "../db/hold-facts-repo.ts";
import type { OriginalFacts } from "../db/refund-facts-repo.ts";
import type { ErrorCode } from "../errors.ts";

/**
 * The shape of an operation type (docs/design.md, "Adding an operation type"): everything the api
 * needs to accept one, in one module of this folder, listed once in catalog.ts. The worker's
 * apply is not here: it keeps an exhaustive switch over kinds (worker/batch-plan.ts,
 * worker/apply-batch.ts), which the compiler checks.
 */
export interface OperationTypeDef<
  T extends string = string,
  B extends z.ZodObject = z.ZodObject,
  P extends string | undefined = string | undefined,
> {
  type: T;
  /** The single route's path under `/v1`, in Express's syntax. */
  path: string;
  /** The single route's body; a bulk item is this plus `type` and `idempotencyKey`. */
  body: B;
  /** The request field the path's `:id` fills (a capture's and void's hold); a bulk item carries it. */
  pathId?: P;
  docs: {
    operationId: string;
    tag: "Operations" | "Holds";
    summary: string;
    description: string;
    /** The path parameter's description, for a type with {@link pathId}. */
    pathIdDescription?: string;
    /** The 404 an unknown or foreign reference gets. */
    notFound: Extract<ErrorCode, "wallet_not_found" | "hold_not_found" | "operation_not_found">;
  };
  /** What a succeeded one leaves in the ledger, as the audit checks it. */
  ledger: {
    /** Whether it posts two entries (else none: a hold reserves, a void releases). */
    posts: boolean;
    /** Which side the currency's funding account of its partition takes, if any. */
    funding: "debit" | "credit" | null;
    /** Whether it may be refunded (it then carries `refundedAmount`). */
    refundable: boolean;
  };
  /**
   * Where an accepted request goes: which wallet is debited (its partition applies it), which
   * wallets must be the caller's, and the columns of its row. Throws the acceptance's API errors
   * in docs/api.md's order. Its only I/O is through `lookups`; a placement by wallets leaves
   * their checks to the accept insert ({@link Placement}).
   */
  place(request: RequestOf<T, B, P>, lookups: Lookups, clientId: string): Promise<Placement>;
}

/** A parsed request of a type: its body, its path's id, and its `type`. */
export type RequestOf<T extends string, B extends z.ZodObject, P extends string | undefined> = {
  type: T;
} & z.output<B> &
  (P extends string ? { [K in P]: string } : unknown);

/** What the acceptance of an operation reads: holds and originals, by id. */
export interface Lookups {
  hold(id: string): Promise<HoldFacts | undefined>;
  original(id: string): Promise<OriginalFacts | undefined>;
}

/** Where an accepted request goes: what the insert needs beyond the request itself. */
export interface Placement {
  /**
   * The partition of the wallet whose balance is checked (a hold's source for its steps); null
   * for a placement by wallets, which the accept insert checks and places in the placing
   * wallet's partition (shared/db/operation-batch-repo.ts, WALLET_REFUSAL).
   */
  partition: number | null;
  /** The operation's currency; null for a placement by wallets (the placing wallet's). */
  currency: string | null;
  amount: bigint;
  fromWalletId: string | null;
  toWalletId: string | null;
  holdId: string | null;
  refundOf: string | null;
  expiresInSeconds: number | null;
}

/** A placement's columns that most types leave empty. */
export const NO_REFERENCES = { holdId: null, refundOf: null, expiresInSeconds: null } as const;

/** Declares an operation type, keeping its literal types for the catalog's derived lists. */
export const defineOperationType = <
  T extends string,
  B extends z.ZodObject,
  P extends string | undefined = undefined,
>(
  def: OperationTypeDef<T, B, P>,
): OperationTypeDef<T, B, P> => def;
