import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Logger } from "pino";
import type { BacklogSample } from "../../shared/db/operation-repo.ts";
import type { XactSnapshot } from "../../shared/db/xact-snapshot.ts";
import { errorSummary } from "../../shared/log-safe.ts";

/** Bounds past which new top-ups and transfers are refused; 0 turns a bound off. */
export interface BackpressureLimits {
  /** Pending operations, all partitions together. */
  maxPending: number;
  /** Admitted accepts in progress in this process (a refused one is not counted). */
  maxInFlight: number;
  /** p99 event-loop delay over the last sample interval, ms. */
  maxEventLoopDelayMs: number;
}

export interface Refusal {
  reason: "backlog" | "in_flight" | "event_loop";
  /** Seconds, for the Retry-After header. */
  retryAfter: number;
  detail: string;
}

export interface BackpressureSources {
  /** Pending operations per partition, counting at most `cap` in all, and the count's snapshot. */
  sampleBacklog(cap: number): Promise<BacklogSample>;
  /** The event-loop delay since the previous call, ms; the default measures this process. */
  eventLoopDelayMs?(): number;
  /** Receives every backlog sample (the metrics gauge). */
  onBacklog?(perPartition: readonly number[]): void;
}

/** An admitted accept, counted in {@link Backpressure}'s `admitted` until a sample has seen it. */
interface Admission {
  operations: number;
  ended: boolean;
  /** The transactions that inserted its operations, once ended; undefined when not known. */
  created: readonly bigint[] | undefined;
}

/** How often the backlog and the event-loop delay are sampled: one query per api process per tick. */
export const SAMPLE_INTERVAL_MS = 250;
/**
 * Queue rows one api process reads per second for its backlog samples, at most: a sample reads
 * one row per pending operation (up to the bound), so with a deep backlog it is taken less often
 * than every tick (at the default bound of 20,000, once a second instead of four times, about
 * 4 µs of Postgres per operation saved in the bulk bench). Admissions between samples still
 * count against the bound at once (`admitted`).
 */
const SAMPLED_ROWS_PER_SECOND = 20_000;
/**
 * With the backlog bound off, the gauge still counts up to this many. A sample reads one index
 * entry and heap tuple per pending operation counted (about 0.5-1 µs each in Postgres): capping
 * the count keeps a sample under ~20 ms however deep the backlog is.
 */
const SAMPLE_CAP_WITHOUT_BOUND = 10_000;

/**
 * Backpressure (docs/operations.md, "Backpressure"): decides, without any I/O on the
 * request path, whether a new money request must be refused with 503 `overloaded`. The backlog
 * and the event-loop delay are sampled every {@link SAMPLE_INTERVAL_MS} by one timer per api
 * process; in-flight accepts are counted as they start and end.
 */
export class Backpressure {
  private readonly limits: BackpressureLimits;
  private readonly sources: BackpressureSources;
  private readonly log: Logger;
  private readonly sampleCap: number;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private inFlight = 0;
  private pending = 0;
  /** The snapshot of the last backlog sample: whose inserts {@link pending} counts. */
  private sampled: XactSnapshot | undefined;
  /**
   * Accepts of this process whose operations no backlog sample is known to have counted: they
   * count against the bound before a sample sees them, so concurrent bulks cannot all pass on one
   * stale sample. An accept stays here while in flight, and leaves when it ends having created
   * nothing, or once a sample's snapshot sees its inserts' transactions (at its end if the last
   * sample's does; else at the first sample that does). So the count is exact once an accept has
   * ended; an insert committed and already counted by a sample is counted twice only until its
   * accept ends (its doorbell's round trip). An accept whose inserts' transactions are not known
   * (read back after a lost connection) leaves at the first sample answered after it ended.
   * Other api processes' admissions are seen at their next sample (docs/operations.md,
   * Backpressure).
   */
  private readonly admissions = new Set<Admission>();
  /** The operations of {@link admissions}, all together. */
  private admitted = 0;
  private loopDelayMs = 0;
  private lastSampleFailed = false;
  /** performance.now() before which the backlog is not counted again (the event-loop delay is). */
  private nextBacklogSample = 0;

  constructor(limits: BackpressureLimits, sources: BackpressureSources, log: Logger) {
    this.limits = limits;
    this.sources = sources;
    this.log = log;
    // Counting up to the bound is enough to decide; refusals keep the backlog near it anyway.
    this.sampleCap = limits.maxPending > 0 ? limits.maxPending : SAMPLE_CAP_WITHOUT_BOUND;
  }

  /** Starts the sampler (and takes a first sample before resolving). */
  async start(): Promise<void> {
    if (!this.sources.eventLoopDelayMs) this.loopDelay.enable();
    await this.sample();
    this.timer = setInterval(() => void this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.loopDelay.disable();
  }

  /** One sample of the backlog and the event-loop delay. A failed query keeps the last value. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.loopDelayMs = this.sources.eventLoopDelayMs?.() ?? this.ownLoopDelayMs();
      const started = performance.now();
      if (started < this.nextBacklogSample) return;
      const { perPartition, snapshot } = await this.sources.sampleBacklog(this.sampleCap);
      this.pending = perPartition.reduce((a, b) => a + b, 0);
      this.sampled = snapshot;
      this.nextBacklogSample =
        started + (this.pending / SAMPLED_ROWS_PER_SECOND) * 1000 - SAMPLE_INTERVAL_MS / 2;
      for (const admission of this.admissions) {
        if (admission.ended && (admission.created === undefined || this.counted(admission.created))) {
          this.release(admission);
        }
      }
      this.sources.onBacklog?.(perPartition);
      this.lastSampleFailed = false;
    } catch (err) {
      // Logged once per outage, not four times a second.
      if (!this.lastSampleFailed) this.log.warn({ err: errorSummary(err) }, "backlog sample failed");
      this.lastSampleFailed = true;
    } finally {
      this.sampling = false;
    }
  }

  private ownLoopDelayMs(): number {
    const ms = this.loopDelay.count > 0 ? this.loopDelay.percentile(99) / 1e6 : 0;
    this.loopDelay.reset();
    return ms;
  }

  /**
   * Counts an admitted accept of `operations` (a bulk's items) in progress (after
   * {@link refusal}); call the returned function when it ends, with the transactions (xids) that
   * inserted its operations (none if it created nothing), or nothing if they are not known.
   */
  enter(operations = 1): (created?: readonly bigint[]) => void {
    this.inFlight++;
    const admission: Admission = { operations, ended: false, created: undefined };
    this.admissions.add(admission);
    this.admitted += operations;
    return (created) => {
      if (admission.ended) return;
      admission.ended = true;
      admission.created = created;
      this.inFlight--;
      if (created && this.counted(created)) this.release(admission);
    };
  }

  /** Whether the last sample counted the operations these committed transactions inserted. */
  private counted(created: readonly bigint[]): boolean {
    const sampled = this.sampled;
    return created.every((xid) => sampled?.sees(xid) === true);
  }

  private release(admission: Admission): void {
    if (this.admissions.delete(admission)) this.admitted -= admission.operations;
  }

  /** In-flight accepts of this process right now. */
  inFlightCount(): number {
    return this.inFlight;
  }

  /**
   * Why an accept of `operations` new operations (a bulk's items) must be refused now, or
   * undefined. Synchronous: no I/O. The backlog bound counts every item; an empty backlog still
   * admits one request however large, so that a bulk larger than the bound is not refused forever.
   */
  refusal(operations = 1): Refusal | undefined {
    const { maxPending, maxInFlight, maxEventLoopDelayMs } = this.limits;
    const backlog = this.pending + this.admitted;
    if (maxPending > 0 && backlog > 0 && backlog + operations > maxPending) {
      // The workers are behind by at least maxPending operations; give them a moment.
      return {
        reason: "backlog",
        retryAfter: 2,
        detail:
          "Too many operations are waiting to be applied; nothing was created. Retry later with the same Idempotency-Key.",
      };
    }
    if (maxInFlight > 0 && this.inFlight >= maxInFlight) {
      return {
        reason: "in_flight",
        retryAfter: 1,
        detail:
          "This server is accepting too many operations at once; nothing was created. Retry later with the same Idempotency-Key.",
      };
    }
    if (maxEventLoopDelayMs > 0 && this.loopDelayMs >= maxEventLoopDelayMs) {
      return {
        reason: "event_loop",
        retryAfter: 1,
        detail: "This server is overloaded; nothing was created. Retry later with the same Idempotency-Key.",
      };
    }
    return undefined;
  }
}
