import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Database } from "../shared/db/client.ts";
import { isTransientDbError } from "../shared/db/pg-errors.ts";
import type { Operation } from "../shared/db/schema/index.ts";
import { newId } from "../shared/ids.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { retrying } from "../shared/retry.ts";
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
import { signedHeaders, webhookBody } from "./webhook-payload.ts";

/**
 * Counters for the metrics issue: called once per recorded attempt and once per delivery that
 * reaches a final status. Synchronous and cheap; a hook that throws is ignored (logged at debug).
 */
export interface WebhookSenderHooks {
  /** `durationMs`: wall time of the HTTP attempt, name resolution included. */
  onAttempt?(event: {
    deliveryId: string;
    endpointId: string;
    outcome: AttemptOutcome;
    durationMs: number;
    statusCode: number | null;
  }): void;
  /** `reason`: a 2xx, the last attempt allowed failed, or the endpoint was deleted. */
  onFinal?(event: {
    deliveryId: string;
    endpointId: string;
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
/** Tries to write an attempt's result before leaving the delivery to its lease. */
const RECORD_TRIES = 5;

/**
 * Starts the webhook sender (docs/design.md step 5): a loop in every worker process that
 * claims due deliveries from Postgres, POSTs each one signed with the `standardwebhooks`
 * reference implementation, records the attempt and schedules the next. Concurrency is bounded
 * overall and per endpoint, so a slow or dead endpoint holds at most `endpointConcurrency`
 * slots and never the others'; the money path shares nothing with it but the event loop.
 */
export function startWebhookSender(opts: WebhookSenderOptions): WebhookSender {
  const sender = new SenderLoop(opts);
  opts.log.info(
    {
      concurrency: opts.concurrency,
      endpointConcurrency: opts.endpointConcurrency,
      timeoutMs: opts.timeoutMs,
      retrySchedule: opts.retrySchedule.join(","),
    },
    "webhook sender started",
  );
  return sender;
}

class SenderLoop implements WebhookSender {
  private readonly opts: WebhookSenderOptions;
  private readonly lease: number;
  /** Attempts in flight, by delivery id. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Attempts in flight per endpoint id. */
  private readonly perEndpoint = new Map<string, number>();
  private readonly controllers = new Set<AbortController>();
  private stopping = false;
  private wakeRequested = false;
  private wake: (() => void) | undefined;
  private readonly running: Promise<void>;

  constructor(opts: WebhookSenderOptions) {
    this.opts = opts;
    this.lease = leaseMs(opts.timeoutMs);
    this.running = this.loop();
  }

  nudge(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.nudge();
    await this.running;
    const settled = Promise.allSettled(this.inFlight.values());
    await Promise.race([settled, sleep(STOP_GRACE_MS, undefined, { ref: false })]);
    for (const c of this.controllers) c.abort();
    await Promise.allSettled(this.inFlight.values());
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.wakeRequested = false;
      let more = false;
      try {
        more = await this.claimAndStart();
      } catch (err) {
        this.opts.log.warn({ err: errorSummary(err) }, "webhook claim failed; will retry");
      }
      if (!more || this.stopping) await this.idle();
    }
  }

  /** Sleeps for the poll interval, or less if nudged (a commit, a freed slot). */
  private async idle(): Promise<void> {
    if (this.wakeRequested) return;
    const ac = new AbortController();
    this.wake = () => ac.abort();
    await sleep(this.opts.pollIntervalMs, undefined, { signal: ac.signal }).catch(() => {});
    this.wake = undefined;
  }

  /** Claims what fits the free slots and starts it; true if it filled every free slot (more may be due). */
  private async claimAndStart(): Promise<boolean> {
    const free = this.opts.concurrency - this.inFlight.size;
    if (free <= 0) return false;
    const saturated = [...this.perEndpoint]
      .filter(([, n]) => n >= this.opts.endpointConcurrency)
      .map(([id]) => id);
    const claimed = await claimDue(this.opts.db, {
      limit: free,
      leaseMs: this.lease,
      skipEndpoints: saturated,
    });
    if (claimed.length === 0) return false;
    const take: ClaimedDelivery[] = [];
    const giveBack: string[] = [];
    const deleted: string[] = [];
    for (const d of claimed) {
      if (d.endpointDeleted) deleted.push(d.id);
      else if ((this.perEndpoint.get(d.endpointId) ?? 0) >= this.opts.endpointConcurrency)
        giveBack.push(d.id);
      else {
        this.perEndpoint.set(d.endpointId, (this.perEndpoint.get(d.endpointId) ?? 0) + 1);
        take.push(d);
      }
    }
    let operations: Map<string, Operation>;
    try {
      await releaseClaims(this.opts.db, giveBack);
      await failDeliveries(this.opts.db, deleted);
      for (const d of claimed.filter((c) => c.endpointDeleted)) {
        const ids = { deliveryId: d.id, endpointId: d.endpointId };
        this.hook((h) => h.onFinal?.({ ...ids, status: "failed", reason: "endpoint_deleted" }));
      }
      operations = await operationsById(
        this.opts.db,
        take.map((d) => d.operationId),
      );
    } catch (err) {
      // The claims run out with their lease and are taken again then.
      for (const d of take) this.releaseSlot(d);
      throw err;
    }
    for (const d of take) {
      const attempt = this.attempt(d, operations.get(d.operationId)).finally(() => {
        this.releaseSlot(d);
        this.inFlight.delete(d.id);
        this.nudge();
      });
      this.inFlight.set(d.id, attempt);
    }
    return claimed.length === free && giveBack.length === 0;
  }

  private releaseSlot(d: ClaimedDelivery): void {
    const busy = (this.perEndpoint.get(d.endpointId) ?? 1) - 1;
    if (busy > 0) this.perEndpoint.set(d.endpointId, busy);
    else this.perEndpoint.delete(d.endpointId);
  }

  /** One attempt of one delivery, recorded. Never throws. */
  private async attempt(d: ClaimedDelivery, operation: Operation | undefined): Promise<void> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const attemptedAt = new Date();
    const started = performance.now();
    let result: AttemptResult;
    try {
      if (!operation) {
        result = { outcome: "refused", statusCode: null, error: "operation not found" };
      } else {
        const body = webhookBody(d.eventType, operation);
        result = await postWebhook(d.url, body, signedHeaders(d.id, d.secret, body, attemptedAt), {
          timeoutMs: this.opts.timeoutMs,
          policy: this.opts.policy,
          signal: controller.signal,
        });
      }
    } catch (err) {
      result = { outcome: "connection_error", statusCode: null, error: errorSummary(err).message };
    } finally {
      this.controllers.delete(controller);
    }
    if (controller.signal.aborted) {
      // Shutting down mid-attempt: not an attempt of the endpoint's; another sender takes it now.
      await releaseClaims(this.opts.db, [d.id]).catch(() => {});
      return;
    }
    const durationMs = Math.max(0, Math.round(performance.now() - started));
    const next = this.nextStep(result, d.attemptsMade + 1);
    if (!(await this.record(d, { attemptedAt, durationMs, result }, next))) return;
    const ids = { deliveryId: d.id, endpointId: d.endpointId };
    this.hook((h) =>
      h.onAttempt?.({ ...ids, outcome: result.outcome, durationMs, statusCode: result.statusCode }),
    );
    if (next.status !== "pending") {
      const reason = next.status === "succeeded" ? "delivered" : "attempts_exhausted";
      this.hook((h) => h.onFinal?.({ ...ids, status: next.status, reason }));
    }
    this.opts.log.debug(
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
  }

  /** After attempt number `attemptNumber` (1-based): done, failed for good, or retried after the schedule's delay. */
  private nextStep(result: AttemptResult, attemptNumber: number): NextStep {
    if (result.outcome === "succeeded") return { status: "succeeded" };
    const delayMs = nextRetryDelayMs(this.opts.retrySchedule, attemptNumber);
    return delayMs === null ? { status: "failed" } : { status: "pending", delayMs };
  }

  /** Writes the attempt and what follows, retrying transient errors; false if it could not. */
  private async record(
    d: ClaimedDelivery,
    a: { attemptedAt: Date; durationMs: number; result: AttemptResult },
    next: NextStep,
  ): Promise<boolean> {
    const attempt = {
      id: newId(),
      deliveryId: d.id,
      attemptedAt: a.attemptedAt,
      durationMs: a.durationMs,
      statusCode: a.result.statusCode,
      error: a.result.error,
    };
    try {
      await retrying(
        () => recordAttempt(this.opts.db, attempt, next),
        { firstMs: 200, maxMs: 10_000 },
        (err, failures) => isTransientDbError(err) && failures < RECORD_TRIES,
      );
      return true;
    } catch (err) {
      // Unrecorded: the lease runs out and the delivery is sent again (at least once).
      this.opts.log.warn({ deliveryId: d.id, err: errorSummary(err) }, "could not record a webhook attempt");
      return false;
    }
  }

  private hook(call: (hooks: WebhookSenderHooks) => void): void {
    if (!this.opts.hooks) return;
    try {
      call(this.opts.hooks);
    } catch (err) {
      this.opts.log.debug({ err: errorSummary(err) }, "webhook hook threw");
    }
  }
}
