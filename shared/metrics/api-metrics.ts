import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { boundedLabel } from "./registry.ts";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** HTTP latency buckets, s: from sub-millisecond reads to 30 s long polls (`?wait=30`). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The api's metrics. Every label is bounded: route templates (never ids), status codes, fixed enums. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** One finished HTTP request; `route` is the Express route template or "unmatched". */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** A new operation was accepted (202, not a replay). */
  accepted(type: "top_up" | "transfer"): void;
  /** Reads the api's held long polls at scrape time. */
  track(read: { longPolls: () => number }): void;
}

/** Registers the api's metrics in `registry`. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  const http = new Histogram({
    name: "billing_http_request_duration_seconds",
    help: "HTTP request duration by method, route template and status, s",
    labelNames: ["method", "route", "status"] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  // Children by "method route status": prom-client hashes a label object on every call; a
  // Map lookup on a short string is cheaper on the request path.
  const children = new Map<string, Histogram.Internal<"method" | "route" | "status">>();

  const accepted = new Counter({
    name: "billing_operations_accepted_total",
    help: "Operations accepted (202, replays not counted) by type",
    labelNames: ["type"] as const,
    registers: [registry],
  });
  let read = { longPolls: () => 0 };
  new Gauge({
    name: "billing_long_polls_waiting",
    help: "GET /v1/operations/:id?wait=N requests this api process is holding right now",
    registers: [registry],
    collect() {
      this.set(read.longPolls());
    },
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const key = `${method} ${route} ${status}`;
      let child = children.get(key);
      if (!child) {
        child = http.labels(boundedLabel(method, METHODS), route, String(status));
        children.set(key, child);
      }
      child.observe(seconds);
    },
    accepted: (type) => accepted.inc({ type }),
    track(readers) {
      read = readers;
    },
  };
}
