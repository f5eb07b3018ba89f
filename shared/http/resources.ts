import type { Entry, Operation, Wallet } from "../db/schema/index.ts";
import { toJsonAmount } from "../money.ts";

/** The JSON shapes of API.md's resources, built from database rows. */

export interface WalletResource {
  id: string;
  clientId: string;
  currency: string;
  balance: number;
  version: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export function walletResource(w: Wallet): WalletResource {
  return {
    id: w.id,
    clientId: w.clientId ?? "",
    currency: w.currency,
    balance: toJsonAmount(w.balance),
    version: Number(w.version),
    metadata: w.metadata,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

export interface OperationResource {
  id: string;
  type: "top_up" | "transfer";
  status: "pending" | "succeeded" | "failed";
  amount: number;
  currency: string;
  fromWalletId: string | null;
  toWalletId: string;
  failure: { code: string; message: string } | null;
  metadata: Record<string, string>;
  createdAt: string;
  completedAt: string | null;
}

export function operationResource(o: Operation): OperationResource {
  return {
    id: o.id,
    type: o.type,
    status: o.status,
    amount: toJsonAmount(o.amount),
    currency: o.currency,
    fromWalletId: o.fromWalletId,
    toWalletId: o.toWalletId,
    failure: o.failureCode ? { code: o.failureCode, message: o.failureMessage ?? "" } : null,
    metadata: o.metadata,
    createdAt: o.createdAt.toISOString(),
    completedAt: o.completedAt ? o.completedAt.toISOString() : null,
  };
}

export interface EntryResource {
  id: string;
  operationId: string;
  walletId: string;
  amount: number;
  balanceAfter: number;
  createdAt: string;
}

export function entryResource(e: Entry): EntryResource {
  return {
    id: e.id,
    operationId: e.operationId,
    walletId: e.walletId,
    amount: toJsonAmount(e.amount),
    balanceAfter: toJsonAmount(e.balanceAfter),
    createdAt: e.createdAt.toISOString(),
  };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
