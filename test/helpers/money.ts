import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import type { TestSystem } from "./system.ts";

/** Every wallet's balance and version (funding accounts included) and the row counts of the money tables. */
export interface MoneySnapshot {
  wallets: { id: string; balance: string; version: string }[];
  operations: number;
  entries: number;
  clients: number;
}

/** Reads the money state straight from Postgres (bigints as text). */
export async function moneySnapshot(system: TestSystem): Promise<MoneySnapshot> {
  const wallets = await system.db.execute<{ id: string; balance: string; version: string }>(
    sql`SELECT id::text AS id, balance::text AS balance, version::text AS version FROM wallets ORDER BY id`,
  );
  const counts = await system.db.execute<{ operations: number; entries: number; clients: number }>(sql`
    SELECT (SELECT count(*)::int FROM operations) AS operations,
           (SELECT count(*)::int FROM entries) AS entries,
           (SELECT count(*)::int FROM clients) AS clients`);
  const c = counts.rows[0];
  if (!c) throw new Error("no counts");
  return { wallets: wallets.rows, operations: c.operations, entries: c.entries, clients: c.clients };
}

/** Asserts that nothing changed since `before`: no balance, no version, no new operation, entry or client row. */
export async function expectNothingMoved(system: TestSystem, before: MoneySnapshot): Promise<void> {
  expect(await moneySnapshot(system)).toEqual(before);
}

/** The number of operations submitted under an idempotency key (any client). */
export async function operationsWithKey(system: TestSystem, key: string): Promise<number> {
  const r = await system.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM operations WHERE idempotency_key = ${key}`,
  );
  return r.rows[0]?.n ?? 0;
}

/** Runs the ledger audit and asserts that no check found anything (the failing checks are shown). */
export async function expectAuditClean(system: TestSystem): Promise<void> {
  const report = await auditLedger(system.db);
  expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
}
