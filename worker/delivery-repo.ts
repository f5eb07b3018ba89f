import { inArray, sql } from "drizzle-orm";
import type { Db } from "../shared/db/client.ts";
import { type Operation, operations, type WebhookEventType } from "../shared/db/schema/index.ts";

/** The SQL of the webhook sender. None of it runs inside a runner's transaction, nor holds a transaction open during HTTP. */

/** A delivery a sender claimed, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  operationId: string;
  eventType: WebhookEventType;
  url: string;
  /** The endpoint's signing secret: never logged. */
  secret: string;
  /** The endpoint was deleted after the delivery was written: finish it without sending. */
  endpointDeleted: boolean;
  /** Attempts recorded before this one. */
  attemptsMade: number;
}

/**
 * Claims up to `limit` due deliveries in one autocommit statement: `FOR UPDATE SKIP LOCKED`
 * so concurrent senders (any number of processes) take disjoint rows, and the claim is the
 * move of `next_attempt_at` to the end of a lease. No transaction stays open during the HTTP
 * attempt; a sender that dies leaves the row to be claimed again when the lease ends (at
 * least once). Endpoints in `skipEndpoints` (no free slot in this process) are passed over.
 */
export async function claimDue(
  db: Db,
  opts: { limit: number; leaseMs: number; skipEndpoints: string[] },
): Promise<ClaimedDelivery[]> {
  const r = await db.execute<{
    id: string;
    endpoint_id: string;
    operation_id: string;
    event_type: WebhookEventType;
    url: string;
    secret: string;
    endpoint_deleted: boolean;
    attempts_made: number;
  }>(sql`
    WITH due AS (
      SELECT id FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at <= now()
        AND endpoint_id <> ALL (${sql.param(opts.skipEndpoints)}::uuid[])
      ORDER BY next_attempt_at
      LIMIT ${opts.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries AS d
    SET next_attempt_at = now() + make_interval(secs => ${opts.leaseMs / 1_000})
    FROM due, webhook_endpoints AS e
    WHERE d.id = due.id AND e.id = d.endpoint_id
    RETURNING d.id, d.endpoint_id, d.operation_id, d.event_type, e.url, e.secret,
              e.deleted_at IS NOT NULL AS endpoint_deleted,
              (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts_made`);
  return r.rows.map((row) => ({
    id: row.id,
    endpointId: row.endpoint_id,
    operationId: row.operation_id,
    eventType: row.event_type,
    url: row.url,
    secret: row.secret,
    endpointDeleted: row.endpoint_deleted,
    attemptsMade: row.attempts_made,
  }));
}

/** The operations claimed deliveries announce (final, so immutable), by id. */
export async function operationsById(db: Db, ids: string[]): Promise<Map<string, Operation>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(operations)
    .where(inArray(operations.id, [...new Set(ids)]));
  return new Map(rows.map((o) => [o.id, o]));
}

/** Gives claims back at once (no free slot for the endpoint here; shutting down). */
export async function releaseClaims(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE webhook_deliveries SET next_attempt_at = now()
    WHERE id = ANY (${sql.param(ids)}::uuid[]) AND status = 'pending'`);
}

/** Ends deliveries whose endpoint was deleted: `failed`, no attempt made. */
export async function failDeliveries(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL
    WHERE id = ANY (${sql.param(ids)}::uuid[]) AND status = 'pending'`);
}

/** What follows an attempt: the delivery is done, or is tried again after `delayMs`. */
export type NextStep =
  | { status: "succeeded" }
  | { status: "failed" }
  | { status: "pending"; delayMs: number };

/**
 * Records one attempt and schedules what follows, in one statement. Only a still-pending
 * delivery changes: one that was failed meanwhile (its endpoint deleted) stays failed.
 */
export async function recordAttempt(
  db: Db,
  attempt: {
    id: string;
    deliveryId: string;
    attemptedAt: Date;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
  },
  next: NextStep,
): Promise<void> {
  const delaySeconds = next.status === "pending" ? next.delayMs / 1_000 : 0;
  await db.execute(sql`
    WITH attempt AS (
      INSERT INTO webhook_attempts (id, delivery_id, attempted_at, duration_ms, status_code, error)
      VALUES (${attempt.id}, ${attempt.deliveryId}, ${attempt.attemptedAt.toISOString()}, ${attempt.durationMs},
              ${attempt.statusCode}, ${attempt.error})
    )
    UPDATE webhook_deliveries
    SET status = ${next.status},
        next_attempt_at = CASE WHEN ${next.status} = 'pending'
                               THEN now() + make_interval(secs => ${delaySeconds}) END
    WHERE id = ${attempt.deliveryId} AND status = 'pending'`);
}
