import { Counter, Histogram, type Registry } from "prom-client";

/**
 * Webhook delivery metrics. The sender (worker) reports through these two callbacks:
 * `onAttempt` after each POST, `onFinal` when a delivery stops being retried.
 */
export interface WebhookMetrics {
  onAttempt(attempt: { outcome: string; durationMs: number }): void;
  onFinal(delivery: { status: string }): void;
}

/** Most distinct `outcome` values kept as labels; any further value is counted as "other". */
const MAX_OUTCOMES = 16;
const LABEL = /^[a-z0-9_]{1,32}$/;
const ATTEMPT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120];

/** A label bounder: the first {@link MAX_OUTCOMES} well-formed values pass, the rest are "other". */
function bounded(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (!LABEL.test(value)) return "other";
    if (seen.has(value)) return value;
    if (seen.size >= MAX_OUTCOMES) return "other";
    seen.add(value);
    return value;
  };
}

/**
 * Registers the webhook metrics in `registry`. Outcome and status values come from the sender;
 * they are bounded here (short snake_case words, at most {@link MAX_OUTCOMES}) so that a bug
 * there can never turn a URL or an error message into a label.
 */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = new Counter({
    name: "billing_webhook_attempts_total",
    help: "Webhook delivery attempts by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const attemptSeconds = new Histogram({
    name: "billing_webhook_attempt_duration_seconds",
    help: "Duration of one webhook delivery attempt (request to response or timeout), by outcome, s",
    labelNames: ["outcome"] as const,
    buckets: ATTEMPT_BUCKETS,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: "billing_webhook_deliveries_total",
    help: "Webhook deliveries that reached a final status (succeeded, failed)",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  const outcome = bounded();
  const status = bounded();
  // Both final statuses exist from the start, at 0: increase() sees the first failed delivery.
  for (const s of ["succeeded", "failed"]) deliveries.inc({ status: status(s) }, 0);
  return {
    onAttempt(attempt) {
      const label = outcome(attempt.outcome);
      attempts.inc({ outcome: label });
      attemptSeconds.observe({ outcome: label }, attempt.durationMs / 1000);
    },
    onFinal(delivery) {
      deliveries.inc({ status: status(delivery.status) });
    },
  };
}
