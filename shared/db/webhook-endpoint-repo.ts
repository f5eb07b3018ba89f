import { and, count, desc, eq, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import {
  type NewWebhookEndpoint,
  type WebhookEndpoint,
  type WebhookEventType,
  webhookDeliveries,
  webhookEndpoints,
} from "./schema/index.ts";
import { withTx } from "./transaction.ts";

/** A delivery with the facts its attempt records give. */
export interface DeliveryRow {
  id: string;
  eventType: WebhookEventType;
  operationId: string;
  status: "pending" | "succeeded" | "failed";
  nextAttemptAt: Date | null;
  /** Number of attempt records. */
  attempts: number;
  /** Status code of the latest attempt record; null if it got none or there is none. */
  lastStatusCode: number | null;
}

/**
 * Live endpoints a client may have at once. Every operation outcome of the client is written
 * once per subscribed endpoint inside the money transaction, so the fan-out must stay bounded.
 */
export const MAX_ENDPOINTS_PER_CLIENT = 16;

/**
 * Inserts an endpoint unless the client already has {@link MAX_ENDPOINTS_PER_CLIENT} live ones
 * (`undefined`). The client row is locked `FOR NO KEY UPDATE` so that concurrent creations
 * count one after another; that mode does not conflict with the `FOR KEY SHARE` locks that the
 * foreign keys of wallets and webhook endpoints take on the same row.
 */
export async function insertEndpoint(db: Db, row: NewWebhookEndpoint): Promise<WebhookEndpoint | undefined> {
  return withTx(db, async (tx) => {
    await tx.execute(sql`SELECT 1 FROM clients WHERE id = ${row.clientId} FOR NO KEY UPDATE`);
    const [live] = await tx
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.clientId, row.clientId), isNull(webhookEndpoints.deletedAt)));
    if ((live?.n ?? 0) >= MAX_ENDPOINTS_PER_CLIENT) return undefined;
    const [created] = await tx.insert(webhookEndpoints).values(row).returning();
    if (!created) throw new Error("insert returned no row");
    return created;
  });
}

/** A live (not deleted) endpoint of `clientId`. */
export async function findClientEndpoint(
  db: Db,
  clientId: string,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.id, id),
        eq(webhookEndpoints.clientId, clientId),
        isNull(webhookEndpoints.deletedAt),
      ),
    )
    .limit(1);
  return rows[0];
}

/** A page of a client's live endpoints, newest first (ids are UUIDv7), strictly before `beforeId`. */
export async function listClientEndpoints(
  db: Db,
  clientId: string,
  page: { limit: number; beforeId?: string },
): Promise<WebhookEndpoint[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.clientId, clientId),
        isNull(webhookEndpoints.deletedAt),
        page.beforeId ? lt(webhookEndpoints.id, page.beforeId) : undefined,
      ),
    )
    .orderBy(desc(webhookEndpoints.id))
    .limit(page.limit);
}

/**
 * Deletes a live endpoint of `clientId` (soft: its deliveries keep referring to it) and marks
 * its pending deliveries `failed` in the same transaction, so no sender claims them again. An
 * attempt already in flight finishes and is recorded; senders also skip deliveries whose
 * endpoint is deleted, which covers deliveries a runner was committing at this very moment.
 * False if there was no such endpoint.
 */
export async function deleteClientEndpoint(db: Db, clientId: string, id: string): Promise<boolean> {
  return withTx(db, async (tx) => {
    const deleted = await tx
      .update(webhookEndpoints)
      .set({ deletedAt: sql`now()` })
      .where(
        and(
          eq(webhookEndpoints.id, id),
          eq(webhookEndpoints.clientId, clientId),
          isNull(webhookEndpoints.deletedAt),
        ),
      )
      .returning({ id: webhookEndpoints.id });
    if (deleted.length === 0) return false;
    await tx
      .update(webhookDeliveries)
      .set({ status: "failed", nextAttemptAt: null })
      .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, "pending")));
    return true;
  });
}

/**
 * A page of an endpoint's deliveries, newest first, with the attempt count and the latest
 * attempt's status code read from the attempt records.
 */
export async function listEndpointDeliveries(
  db: Db,
  endpointId: string,
  page: { limit: number; beforeId?: string },
): Promise<DeliveryRow[]> {
  const r = await db.execute<{
    id: string;
    event_type: WebhookEventType;
    operation_id: string;
    status: DeliveryRow["status"];
    next_attempt_at: string | Date | null;
    attempts: number;
    last_status_code: number | null;
  }>(sql`
    SELECT d.id, d.event_type, d.operation_id, d.status, d.next_attempt_at,
           (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts,
           (SELECT a.status_code FROM webhook_attempts a WHERE a.delivery_id = d.id
             ORDER BY a.attempted_at DESC, a.id DESC LIMIT 1) AS last_status_code
    FROM webhook_deliveries d
    WHERE d.endpoint_id = ${endpointId}
      ${page.beforeId ? sql`AND d.id < ${page.beforeId}` : sql``}
    ORDER BY d.id DESC
    LIMIT ${page.limit}`);
  return r.rows.map((row) => ({
    id: row.id,
    eventType: row.event_type,
    operationId: row.operation_id,
    status: row.status,
    nextAttemptAt: row.next_attempt_at ? new Date(row.next_attempt_at) : null,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
  }));
}
