import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { Webhook } from "standardwebhooks";
import type { Database } from "../shared/db/client.ts";
import { isTransientDbError } from "../shared/db/pg-errors.ts";
import type { Operation } from "../shared/db/schema/index.ts";
import { newId } from "../shared/ids.ts";
import { errorSummary } from "../shared/log-safe.ts";
import type { AddressPolicy } from "../shared/webhooks/address-guard.ts";
import {
  type ClaimedDelivery,
  claimDue,
  failDeliveries,
  type NextStep,
  operationsById,
  recordAttempt,
  releaseClaims,
} from "./delivery-repo.ts";
import { leaseMs, nextRetryDelayMs } from "./retry-schedule.ts";
import { type AttemptOutcome, type AttemptResult, postWebhook } from "./webhook-http.ts";
import { messageId, webhookBody } from "./webhook-payload.ts";

/**
 * Counters for the metrics issue: called once per recorded attempt and once per delivery that
 * reaches a final status. Synchronous and cheap; a hook that throws is ignored (logged at debug).
 */
export interface WebhookSenderHooks {
  /** `durationMs`: wall time of the HTTP attempt, name resolution included. */
  onAttempt?(event: { outcome: AttemptOutcome; durationMs: number; statusCode: number | null }): void;
  /** `reason`: a 2xx, the last attempt allowed failed, or the endpoint was deleted. */
  onFinal?(event: {
    status: "succeeded" | "failed";
    reason: "delivered" | "attempts_exhausted" | "endpoint_deleted";
  }): void;
}

export interface WebhookSenderOptions {
  /** The sender's own small pool: never the runners' connections, never inside their transactions. */
  db: Database;
  log: Logger;
  /** Attempts in flight at once in this process. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint in this process. */
  endpointConcurrency: number;
  /** How often an idle sender looks for due deliveries, ms. */
  pollIntervalMs: number;
  /** One attempt's timeout, ms. */
  timeoutMs: number;
  /** Seconds between attempts. */
  retrySchedule: readonly number[];
  /** The SSRF rule applied to every connection. */
  policy: AddressPolicy;
  hooks?: WebhookSenderHooks;
}

export interface WebhookSender {
  /** Look for due deliveries now (a runner just committed some). */
  nudge(): void;
  /** Stops claiming, lets attempts in flight finish for a few seconds, aborts the rest and gives their claims back. */
  stop(): Promise<void>;
}

/** How long `stop` waits for attempts in flight before aborting them, ms. */
const STOP_GRACE_MS = 5_000;
/** Attempts to write an attempt's result before leaving the delivery to its lease. */
const RECORD_TRIES = 5;

/**
 * The webhook sender (ARCHITECTURE.md step 5): a loop in every worker process that claims due
 * deliveries from Postgres, POSTs each one signed with the `standardwebhooks` reference
 * implementation, records the attempt and schedules the next. Concurrency is bounded overall
 * and per endpoint, so a slow or dead endpoint holds at most `endpointConcurrency` slots and
 * never the others'; the money path shares nothing with it but the event loop.
 */
export function startWebhookSender(opts: WebhookSenderOptions): WebhookSender {
  const lease = leaseMs(opts.timeoutMs);
  const inFlight = new Map<string, Promise<void>>();
  const perEndpoint = new Map<string, number>();
  const controllers = new Set<AbortController>();
  let stopping = false;
  let wakeRequested = false;
  let wake: (() => void) | undefined;

  const wakeUp = () => {
    wakeRequested = true;
    wake?.();
  };
  const idle = async () => {
    if (wakeRequested) return;
    const ac = new AbortController();
    wake = () => ac.abort();
    await sleep(opts.pollIntervalMs, undefined, { signal: ac.signal }).catch(() => {});
    wake = undefined;
  };
  const hook = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      opts.log.debug({ err: errorSummary(err) }, "webhook hook threw");
    }
  };

  /** Claims what fits the free slots and starts it; true if it filled every free slot (more may be due). */
  const claimAndStart = async (): Promise<boolean> => {
    const free = opts.concurrency - inFlight.size;
    if (free <= 0) return false;
    const saturated = [...perEndpoint].filter(([, n]) => n >= opts.endpointConcurrency).map(([id]) => id);
    const claimed = await claimDue(opts.db, { limit: free, leaseMs: lease, skipEndpoints: saturated });
    if (claimed.length === 0) return false;
    const take: ClaimedDelivery[] = [];
    const giveBack: string[] = [];
    const deleted: string[] = [];
    for (const d of claimed) {
      if (d.endpointDeleted) {
        deleted.push(d.id);
        continue;
      }
      const busy = perEndpoint.get(d.endpointId) ?? 0;
      if (busy >= opts.endpointConcurrency) {
        giveBack.push(d.id);
        continue;
      }
      perEndpoint.set(d.endpointId, busy + 1);
      take.push(d);
    }
    let operations = new Map<string, Operation>();
    try {
      await releaseClaims(opts.db, giveBack);
      await failDeliveries(opts.db, deleted);
      for (const _ of deleted)
        hook(() => opts.hooks?.onFinal?.({ status: "failed", reason: "endpoint_deleted" }));
      operations = await operationsById(
        opts.db,
        take.map((d) => d.operationId),
      );
    } catch (err) {
      // The claims run out with their lease and are taken again then.
      for (const d of take) release(d);
      throw err;
    }
    for (const d of take) {
      const attempt = send(d, operations.get(d.operationId)).finally(() => {
        release(d);
        inFlight.delete(d.id);
        wakeUp();
      });
      inFlight.set(d.id, attempt);
    }
    return claimed.length === free && giveBack.length === 0;
  };

  const release = (d: ClaimedDelivery) => {
    const busy = (perEndpoint.get(d.endpointId) ?? 1) - 1;
    if (busy > 0) perEndpoint.set(d.endpointId, busy);
    else perEndpoint.delete(d.endpointId);
  };

  /** One attempt of one delivery, recorded. Never throws. */
  const send = async (d: ClaimedDelivery, operation: Operation | undefined): Promise<void> => {
    const controller = new AbortController();
    controllers.add(controller);
    const attemptedAt = new Date();
    const started = performance.now();
    let result: AttemptResult;
    try {
      if (!operation) {
        result = { outcome: "refused", statusCode: null, error: "operation not found" };
      } else {
        const body = webhookBody(d.eventType, operation);
        const id = messageId(d.id);
        const headers = {
          "content-type": "application/json",
          "user-agent": "wallet-billing-webhooks/1",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(attemptedAt.getTime() / 1_000)),
          "webhook-signature": new Webhook(d.secret).sign(id, attemptedAt, body),
        };
        result = await postWebhook(d.url, body, headers, {
          timeoutMs: opts.timeoutMs,
          policy: opts.policy,
          signal: controller.signal,
        });
      }
    } catch (err) {
      result = { outcome: "connection_error", statusCode: null, error: errorSummary(err).message };
    } finally {
      controllers.delete(controller);
    }
    if (controller.signal.aborted) {
      // Shutting down mid-attempt: not an attempt of the endpoint's; another sender takes it now.
      await releaseClaims(opts.db, [d.id]).catch(() => {});
      return;
    }
    const durationMs = Math.max(0, Math.round(performance.now() - started));
    const next = nextStep(result, d.attemptsMade + 1);
    const recorded = await recordWithRetry(d, { attemptedAt, durationMs, result }, next);
    if (!recorded) return;
    hook(() =>
      opts.hooks?.onAttempt?.({ outcome: result.outcome, durationMs, statusCode: result.statusCode }),
    );
    if (next.status !== "pending") {
      hook(() =>
        opts.hooks?.onFinal?.({
          status: next.status,
          reason: next.status === "succeeded" ? "delivered" : "attempts_exhausted",
        }),
      );
    }
    opts.log.debug(
      {
        deliveryId: d.id,
        endpointId: d.endpointId,
        outcome: result.outcome,
        statusCode: result.statusCode,
        durationMs,
        attempt: d.attemptsMade + 1,
        next: next.status,
      },
      "webhook attempt",
    );
  };

  const nextStep = (result: AttemptResult, failedOrDone: number): NextStep => {
    if (result.outcome === "succeeded") return { status: "succeeded" };
    const delayMs = nextRetryDelayMs(opts.retrySchedule, failedOrDone);
    return delayMs === null ? { status: "failed" } : { status: "pending", delayMs };
  };

  const recordWithRetry = async (
    d: ClaimedDelivery,
    a: { attemptedAt: Date; durationMs: number; result: AttemptResult },
    next: NextStep,
  ): Promise<boolean> => {
    const attempt = {
      id: newId(),
      deliveryId: d.id,
      attemptedAt: a.attemptedAt,
      durationMs: a.durationMs,
      statusCode: a.result.statusCode,
      error: a.result.error,
    };
    for (let i = 1; ; i++) {
      try {
        await recordAttempt(opts.db, attempt, next);
        return true;
      } catch (err) {
        if (!isTransientDbError(err) || i >= RECORD_TRIES) {
          // Unrecorded: the lease runs out and the delivery is sent again (at least once).
          opts.log.warn({ deliveryId: d.id, err: errorSummary(err) }, "could not record a webhook attempt");
          return false;
        }
        await sleep(100 * 2 ** i);
      }
    }
  };

  const loop = (async () => {
    while (!stopping) {
      let more = false;
      wakeRequested = false;
      try {
        more = await claimAndStart();
      } catch (err) {
        opts.log.warn({ err: errorSummary(err) }, "webhook claim failed; will retry");
      }
      if (!more || stopping) await idle();
    }
  })();

  opts.log.info(
    {
      concurrency: opts.concurrency,
      endpointConcurrency: opts.endpointConcurrency,
      timeoutMs: opts.timeoutMs,
      retrySchedule: opts.retrySchedule.join(","),
    },
    "webhook sender started",
  );

  return {
    nudge: wakeUp,
    async stop() {
      stopping = true;
      wakeUp();
      await loop;
      const settled = Promise.allSettled(inFlight.values());
      await Promise.race([settled, sleep(STOP_GRACE_MS, undefined, { ref: false })]);
      for (const c of controllers) c.abort();
      await Promise.allSettled(inFlight.values());
    },
  };
}
