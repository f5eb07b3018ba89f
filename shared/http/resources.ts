import type { Entry, Operation, Wallet, WebhookEndpoint, WebhookEventType } from "../db/schema/index.ts";
import type { DeliveryRow } from "../db/webhook-endpoint-repo.ts";
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

export interface WebhookEndpointResource {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
}

/** An endpoint as listed: never its secret, which only the creation answer shows. */
export function webhookEndpointResource(e: WebhookEndpoint): WebhookEndpointResource {
  return { id: e.id, url: e.url, events: e.events, createdAt: e.createdAt.toISOString() };
}

/** The creation answer: the only one that carries the signing secret. */
export function createdWebhookEndpointResource(
  e: WebhookEndpoint,
): WebhookEndpointResource & { secret: string } {
  return { id: e.id, url: e.url, events: e.events, secret: e.secret, createdAt: e.createdAt.toISOString() };
}

export interface WebhookDeliveryResource {
  id: string;
  eventType: WebhookEventType;
  operationId: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
}

export function webhookDeliveryResource(d: DeliveryRow): WebhookDeliveryResource {
  return {
    id: d.id,
    eventType: d.eventType,
    operationId: d.operationId,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    // Only a pending delivery has a next attempt (while one is in flight: its sender's lease end).
    nextAttemptAt: d.status === "pending" && d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
  };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
