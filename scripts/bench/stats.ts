import type { LatencySummary } from "./load-spec.ts";

/** A growable list of float samples (latencies in ms): 8 bytes a sample, no per-sample object. */
export class Samples {
  private data: Float64Array;
  length = 0;

  constructor(initialCapacity = 1 << 16) {
    this.data = new Float64Array(initialCapacity);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** The samples sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** The value at quantile `q` (0..1) of ascending `sorted` (nearest rank); 0 when empty. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** p50/p90/p99/p99.9/max/mean of the samples, ms rounded to 0.01. */
export function summarize(samples: Samples): LatencySummary {
  const s = samples.sorted();
  let sum = 0;
  for (const v of s) sum += v;
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    p50: r(quantile(s, 0.5)),
    p90: r(quantile(s, 0.9)),
    p99: r(quantile(s, 0.99)),
    p999: r(quantile(s, 0.999)),
    max: r(s.length ? (s[s.length - 1] ?? 0) : 0),
    mean: r(s.length ? sum / s.length : 0),
  };
}
