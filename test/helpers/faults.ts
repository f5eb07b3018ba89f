import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { waitAllSettled } from "./http.ts";
import type { LoadResult } from "./load.ts";
import type { TestSystem } from "./system.ts";

/**
 * After a fault: the system settles with no manual step, every operation that got a 202 is
 * final, and every ledger invariant holds. Returns the seconds it took to settle.
 */
export async function expectRecovered(
  system: TestSystem,
  load: LoadResult,
  timeoutMs = 90_000,
): Promise<number> {
  const started = performance.now();
  await waitAllSettled(system, timeoutMs);
  const seconds = (performance.now() - started) / 1000;
  expect(load.accepted.size).toBeGreaterThan(0);
  const rows = await system.db.execute<{ id: string; status: string }>(
    sql`SELECT id, status FROM operations WHERE id = ANY(${sql.param([...load.accepted])}::uuid[])`,
  );
  expect(rows.rows).toHaveLength(load.accepted.size);
  expect(rows.rows.filter((r) => r.status !== "succeeded" && r.status !== "failed")).toEqual([]);
  const audit = await auditLedger(system.db, { pendingBoundSeconds: 0 });
  expect(audit.checks.filter((c) => c.violations > 0)).toEqual([]);
  // Debits of each wallet were applied in acceptance order (the load sends them one at a time).
  const disorder = await system.db.execute(sql`
    SELECT wallet_id, wallet_version::text FROM (
      SELECT e.wallet_id, e.wallet_version, o.seq,
             lag(o.seq) OVER (PARTITION BY e.wallet_id ORDER BY e.wallet_version) AS previous_seq
      FROM entries e JOIN operations o ON o.id = e.operation_id
      WHERE o.from_wallet_id = e.wallet_id
    ) debits
    WHERE previous_seq > seq`);
  expect(disorder.rows).toEqual([]);
  expect(system.crashes()).toEqual([]);
  // No refusal other than business validation: 202s, or 503s a retry got through.
  expect([...load.refused.keys()].filter((s) => s >= 500 || s === 0)).toEqual([]);
  return seconds;
}
