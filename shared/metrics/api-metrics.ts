import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { OPERATION_TYPES, type OperationType } from "../db/schema/operations.ts";
import { boundedLabel } from "./registry.ts";

/** Why a request was refused before any work was done (the `reason` label). */
export type RefusalReason = "rate_limited" | "auth_failures" | "backlog" | "in_flight" | "event_loop";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** HTTP latency buckets, s: from sub-millisecond reads to 30 s long polls (`?wait=30`). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The api's metrics. Every label is bounded: route templates (never ids), status codes, fixed enums. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** One finished HTTP request; `route` is the Express route template or "unmatched". */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** A new operation was accepted (202, not a replay). */
  accepted(type: OperationType): void;
  refused(reason: RefusalReason): void;
  /** An API key was looked up in Postgres (not found in this process's memory). */
  keyLookup(): void;
  /** Pending operations per partition (index = partition), as last sampled. */
  setBacklog(perPartition: readonly number[]): void;
  /** Reads the api's in-flight accepts, held long polls and readiness at scrape time. */
  track(read: ApiReadings): void;
}

/** What the api's gauges read at each scrape. */
export interface ApiReadings {
  inFlightAccepts: () => number;
  longPolls: () => number;
  /** What `GET /readyz` would answer: Postgres and Redis answer, and the process is not draining. */
  ready: () => Promise<boolean>;
}

/** Registers the api's metrics in `registry`; `partitions` bounds the backlog gauge's label. */
export function createApiMetrics(registry: Registry, partitions: number): ApiMetrics {
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
  // Resolved once: the accept path increments a child, without hashing a label object.
  const acceptedByType = new Map(OPERATION_TYPES.map((t) => [t, accepted.labels(t)]));
  const refused = new Counter({
    name: "billing_requests_refused_total",
    help: "Requests refused before any work: rate_limited or auth_failures (429), backlog, in_flight or event_loop (503 overloaded)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const keyLookups = new Counter({
    name: "billing_auth_key_lookups_total",
    help: "API keys looked up in Postgres (neither remembered as known nor as unknown by this process)",
    registers: [registry],
  });
  const backlog = new Gauge({
    name: "billing_backlog_operations",
    // Several api processes of one instance (API_PROCESSES) sample the same backlog: their
    // aggregate is one sample, not the sum.
    aggregator: "max",
    help: "Pending operations per partition, sampled by the api every 250 ms; the sample counts at most BACKPRESSURE_MAX_PENDING (10000 when off) in all",
    labelNames: ["partition"] as const,
    registers: [registry],
  });
  const backlogChildren = Array.from({ length: partitions }, (_, p) => backlog.labels(String(p)));
  let read: ApiReadings = { inFlightAccepts: () => 0, longPolls: () => 0, ready: async () => false };
  new Gauge({
    name: "billing_accepts_in_flight",
    help: "Top-ups and transfers being accepted by this api process right now",
    registers: [registry],
    collect() {
      this.set(read.inFlightAccepts());
    },
  });
  // For alerting: Prometheus scrapes /metrics but cannot probe /readyz (no blackbox exporter).
  new Gauge({
    name: "billing_ready",
    // The processes of one instance (API_PROCESSES) aggregated: ready only if every one is.
    aggregator: "min",
    help: "1 when this api process is ready (Postgres and Redis answer within 1 s, not draining), else 0: what GET /readyz answers",
    registers: [registry],
    async collect() {
      this.set((await read.ready()) ? 1 : 0);
    },
  });
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
    accepted: (type) => acceptedByType.get(type)?.inc(),
    refused: (reason) => refused.inc({ reason }),
    keyLookup: () => keyLookups.inc(),
    setBacklog(perPartition) {
      for (let p = 0; p < backlogChildren.length; p++) backlogChildren[p]?.set(perPartition[p] ?? 0);
    },
    track(readers) {
      read = readers;
    },
  };
}

/** The metrics of the api's primary process (`API_PROCESSES` above 1), added to its children's. */
export interface ApiPrimaryMetrics {
  /** A child died and will be restarted. */
  restarted(): void;
  /** Reads how many children are listening, at scrape time. */
  track(read: { listening: () => number }): void;
}

export function createApiPrimaryMetrics(registry: Registry): ApiPrimaryMetrics {
  const restarts = new Counter({
    name: "billing_api_process_restarts_total",
    help: "api processes of this instance that died and were restarted by its primary (API_PROCESSES)",
    registers: [registry],
  });
  let read = { listening: () => 0 };
  new Gauge({
    name: "billing_api_processes",
    help: "api processes of this instance listening on PORT right now (API_PROCESSES)",
    registers: [registry],
    collect() {
      this.set(read.listening());
    },
  });
  return {
    restarted: () => restarts.inc(),
    track(readers) {
      read = readers;
    },
  };
}
