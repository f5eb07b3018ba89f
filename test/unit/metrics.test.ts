import { describe, expect, it } from "vitest";
import { routeTemplate } from "../../api/middleware/request-context.ts";
import { createApiMetrics } from "../../shared/metrics/api-metrics.ts";
import { createMetricsRegistry } from "../../shared/metrics/registry.ts";
import { createWebhookMetrics } from "../../shared/metrics/webhook-metrics.ts";
import { createWorkerMetrics } from "../../shared/metrics/worker-metrics.ts";
import { parseMetrics, sampleValue } from "../helpers/metrics.ts";

const scrape = async (registry: ReturnType<typeof createMetricsRegistry>) =>
  parseMetrics(await registry.metrics());

describe("metrics label cardinality", () => {
  it("HTTP methods outside the known set are counted as other", async () => {
    const registry = createMetricsRegistry();
    const m = createApiMetrics(registry, 2);
    m.observeRequest("PROPFIND", "unmatched", 404, 0.001);
    m.observeRequest("GET", "/v1/wallets/:id", 200, 0.002);
    const samples = await scrape(registry);
    const count = (method: string, route: string) =>
      sampleValue(samples, "billing_http_request_duration_seconds_count", { method, route });
    expect(count("other", "unmatched")).toBe(1);
    expect(count("GET", "/v1/wallets/:id")).toBe(1);
  });

  it("webhook outcomes are short snake_case words, at most 16; anything else is other", async () => {
    const registry = createMetricsRegistry();
    const m = createWebhookMetrics(registry);
    m.onAttempt({ outcome: "success", durationMs: 120 });
    m.onAttempt({ outcome: "https://example.test/hook?token=x", durationMs: 5 });
    for (let i = 0; i < 20; i++) m.onAttempt({ outcome: `status_${i}`, durationMs: 1 });
    m.onFinal({ status: "succeeded" });
    m.onFinal({ status: "failed" });
    const samples = await scrape(registry);
    const outcomes = new Set(
      samples.filter((s) => s.name === "billing_webhook_attempts_total").map((s) => s.labels.outcome),
    );
    expect(outcomes.size).toBe(17); // 16 kept + other
    expect(outcomes).toContain("success");
    expect(outcomes).toContain("other");
    expect(sampleValue(samples, "billing_webhook_attempt_duration_seconds_sum", { outcome: "success" })).toBe(
      0.12,
    );
    expect(sampleValue(samples, "billing_webhook_deliveries_total", { status: "failed" })).toBe(1);
  });

  it("a batch is counted by type and result, with each operation's latency", async () => {
    const registry = createMetricsRegistry();
    createWorkerMetrics(registry).batchCommitted({
      seconds: 0.004,
      operations: [
        { type: "top_up", result: "succeeded", latencySeconds: 0.01 },
        { type: "transfer", result: "succeeded", latencySeconds: 0.02 },
        { type: "transfer", result: "insufficient_funds", latencySeconds: 0.03 },
        { type: "transfer", result: "insufficient_funds", latencySeconds: 0.04 },
      ],
    });
    const samples = await scrape(registry);
    expect(sampleValue(samples, "billing_operations_applied_total", { type: "transfer" })).toBe(1);
    expect(
      sampleValue(samples, "billing_operations_failed_total", {
        type: "transfer",
        code: "insufficient_funds",
      }),
    ).toBe(2);
    expect(sampleValue(samples, "billing_batch_size_sum")).toBe(4);
    expect(sampleValue(samples, "billing_operation_completion_seconds_count")).toBe(4);
  });

  it("partition runners that ended are counted by outcome, each outcome at 0 from the start", async () => {
    const registry = createMetricsRegistry();
    const metrics = createWorkerMetrics(registry);
    const runs = async (outcome: string) =>
      sampleValue(await scrape(registry), "billing_partition_runs_total", { outcome });
    expect([await runs("drained"), await runs("stopped"), await runs("handed-over")]).toEqual([0, 0, 0]);
    metrics.runEnded("drained");
    metrics.runEnded("drained");
    metrics.runEnded("handed-over");
    expect([await runs("drained"), await runs("stopped"), await runs("handed-over")]).toEqual([2, 0, 1]);
  });
});

describe("series alerting needs from the start", () => {
  it("every failure code and final delivery status is at 0 before the first one (increase() sees it)", async () => {
    const registry = createMetricsRegistry();
    createWorkerMetrics(registry);
    createWebhookMetrics(registry);
    const samples = await scrape(registry);
    for (const type of ["top_up", "transfer"]) {
      expect(sampleValue(samples, "billing_operations_applied_total", { type })).toBe(0);
      for (const code of ["insufficient_funds", "balance_limit_exceeded", "internal_error"]) {
        expect(sampleValue(samples, "billing_operations_failed_total", { type, code }), code).toBe(0);
      }
    }
    expect(sampleValue(samples, "billing_webhook_deliveries_total", { status: "failed" })).toBe(0);
    expect(sampleValue(samples, "billing_webhook_deliveries_total", { status: "succeeded" })).toBe(0);
  });

  it("billing_ready is what the readiness check answers at the scrape", async () => {
    const registry = createMetricsRegistry();
    const m = createApiMetrics(registry, 2);
    let ready = true;
    m.track({ inFlightAccepts: () => 0, longPolls: () => 0, ready: async () => ready });
    expect(sampleValue(await scrape(registry), "billing_ready")).toBe(1);
    ready = false;
    expect(sampleValue(await scrape(registry), "billing_ready")).toBe(0);
  });
});

describe("routeTemplate", () => {
  it("joins the mount path and the route path; a router's root is its mount path", () => {
    expect(routeTemplate("/:id", "/v1/wallets")).toBe("/v1/wallets/:id");
    expect(routeTemplate("/", "/v1/wallets")).toBe("/v1/wallets");
    expect(routeTemplate("/healthz", "")).toBe("/healthz");
    expect(routeTemplate(undefined, "/v1")).toBe("unmatched");
  });
});
