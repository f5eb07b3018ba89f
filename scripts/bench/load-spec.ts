/**
 * What the bench orchestrator asks of the load generator, and what the generator reports back.
 * The generator runs as a separate process (scripts/bench/load-generator.ts); the two exchange
 * these shapes as JSON files.
 */

/** Closed loop: `connections` requests in flight, each sent when the previous one answered. */
interface ClosedLoop {
  type: "closed";
  connections: number;
}

/** Open loop: requests sent on a clock at `rate` a second, latency timed from the intended send. */
interface OpenLoop {
  type: "open";
  rate: number;
  /** Most requests in flight; more wait in the client's queue, their wait counted in the latency. */
  connections: number;
  /** Most requests in flight or queued; requests due beyond it are counted as unsent. */
  maxOutstanding: number;
}

export interface LoadSpec {
  baseUrl: string;
  apiKey: string;
  /** A file of wallet ids, one a line, all owned by the client of `apiKey`. */
  walletsFile: string;
  operation: "transfer" | "top_up";
  /** Every transfer debits this wallet (hot source). */
  fixedFrom?: string;
  /** Every transfer credits this wallet (hot destination). */
  fixedTo?: string;
  /** Amounts drawn uniformly from 1..maxAmount minor units. */
  maxAmount: number;
  /** Items per request through POST /v1/operations/bulk; absent: one operation per request. */
  bulkSize?: number;
  mode: ClosedLoop | OpenLoop;
  durationMs: number;
  /** Where the generator writes its {@link LoadResult}. */
  resultFile: string;
}

/** One second of the run, counted by when the response arrived. */
export interface LoadSecond {
  /** Seconds since the run started. */
  t: number;
  /** Operations accepted (a bulk counts its accepted items). */
  accepted: number;
  other: number;
  /** Accept latency p99 of the responses of that second, ms. */
  p99Ms: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  /** Epoch ms of the first send and of the last answer. */
  startedAt: number;
  endedAt: number;
  sent: number;
  /** Answers by HTTP status; network errors under "error". */
  statuses: Record<string, number>;
  /** Operations accepted (a 202 answer, or a bulk's item answered 202), replays included. */
  accepted: number;
  /** Accepted operations that were replays (none are expected: keys are unique). */
  replayed: number;
  /** 503 answers that carried a Retry-After header. */
  retryAfter503: number;
  /** Accept latency of every answer, ms (open loop: from the intended send time). */
  latencyMs: LatencySummary;
  timeline: LoadSecond[];
  /** A few bodies of answers other than 202, for the report. */
  samples: { status: number | "error"; body: string }[];
  /** The generator's own CPU time, ms. */
  cpuMs: { user: number; system: number };
  /**
   * Open loop: requests that fell due while `maxOutstanding` were already waiting, counted and
   * not sent (a client that gives up); a closed loop never has any.
   */
  unsent: number;
  /** Open loop: the latest a request left after its intended send time, ms (the generator's own lag). */
  maxSendLagMs: number;
}
