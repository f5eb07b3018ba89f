import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";

/** What Postgres says about the operations of one measured phase (those with `seq > marker`). */
export interface SettleStats {
  operations: number;
  /** Final statuses, failures by code (e.g. `failed:insufficient_funds`). */
  statuses: Record<string, number>;
  /** Epoch ms: the first `created_at` and the last `completed_at`. */
  firstCreatedAt: number;
  lastCompletedAt: number;
  /** Operations / (last completion − first acceptance). */
  settledPerSec: number;
  /** `completed_at − created_at`, ms. */
  lagMs: { p50: number; p99: number; max: number };
  /**
   * Average operations per accept insert (operations sharing a `created_at`, the insert's
   * transaction time) and per batch transaction (entries sharing a `created_at`).
   */
  groupSize: { accept: number; batch: number };
  /** By second of `completed_at`, from the load's start. */
  timeline: { t: number; settled: number; lagP50Ms: number; lagP99Ms: number }[];
}

/** The largest `seq` so far: operations after it belong to the next phase. */
export async function seqMarker(c: pg.Client): Promise<string> {
  const r = await c.query<{ m: string }>("SELECT coalesce(max(seq), 0)::text AS m FROM operations");
  return r.rows[0]?.m ?? "0";
}

/** Waits until no operation is pending (the queue of pending operations is empty); false on timeout. */
export async function waitSettled(c: pg.Client, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await c.query("SELECT 1 FROM pending_operations LIMIT 1");
    if (r.rowCount === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

const round = (v: unknown) => Math.round(Number(v ?? 0) * 10) / 10;

/** Counts, throughput and settle lag of the operations after `marker`; `loadStartMs` anchors the timeline. */
export async function settleStats(c: pg.Client, marker: string, loadStartMs: number): Promise<SettleStats> {
  const byStatus = await c.query<{ k: string; n: number }>(
    `SELECT status || coalesce(':' || failure_code, '') AS k, count(*)::int AS n
     FROM operations WHERE seq > $1 GROUP BY 1 ORDER BY 1`,
    [marker],
  );
  const totals = await c.query<{
    n: number;
    first: string | null;
    last: string | null;
    p50: number | null;
    p99: number | null;
    max: number | null;
  }>(
    `SELECT count(*)::int AS n,
            (extract(epoch FROM min(created_at)) * 1000)::text AS first,
            (extract(epoch FROM max(completed_at)) * 1000)::text AS last,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99,
            max(lag) AS max
     FROM (SELECT created_at, completed_at,
                  extract(epoch FROM completed_at - created_at) * 1000 AS lag
           FROM operations WHERE seq > $1) AS o`,
    [marker],
  );
  const timeline = await c.query<{ t: number; n: number; p50: number; p99: number }>(
    `SELECT floor(extract(epoch FROM completed_at) - $2::float8 / 1000)::int AS t, count(*)::int AS n,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at) * 1000) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at) * 1000) AS p99
     FROM operations WHERE seq > $1 AND completed_at IS NOT NULL GROUP BY 1 ORDER BY 1`,
    [marker, loadStartMs],
  );
  const groups = await c.query<{ inserts: number; batches: number; posted: number }>(
    `SELECT (SELECT count(DISTINCT created_at)::int FROM operations WHERE seq > $1) AS inserts,
            (SELECT count(DISTINCT e.created_at)::int FROM entries e JOIN operations o ON o.id = e.operation_id
             WHERE o.seq > $1) AS batches,
            (SELECT count(*)::int FROM operations WHERE seq > $1 AND status = 'succeeded') AS posted`,
    [marker],
  );
  const g = groups.rows[0];
  const t = totals.rows[0];
  const first = Number(t?.first ?? 0);
  const last = Number(t?.last ?? 0);
  const n = t?.n ?? 0;
  return {
    operations: n,
    statuses: Object.fromEntries(byStatus.rows.map((r) => [r.k, r.n])),
    firstCreatedAt: first,
    lastCompletedAt: last,
    settledPerSec: last > first ? Math.round((n * 1000) / (last - first)) : 0,
    lagMs: { p50: round(t?.p50), p99: round(t?.p99), max: round(t?.max) },
    groupSize: {
      accept: g?.inserts ? round(n / g.inserts) : 0,
      batch: g?.batches ? round(g.posted / g.batches) : 0,
    },
    timeline: timeline.rows.map((r) => ({
      t: r.t,
      settled: r.n,
      lagP50Ms: round(r.p50),
      lagP99Ms: round(r.p99),
    })),
  };
}
