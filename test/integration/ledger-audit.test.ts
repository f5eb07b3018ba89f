import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { type Api, newClient, newWallet, partitionOf } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

/** `databaseUrl` null: none in the environment. */
const runAudit = (databaseUrl: string | null = system.databaseUrl, args: string[] = []) =>
  spawnSync(process.execPath, ["scripts/ledger-audit.ts", ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
    },
    encoding: "utf8",
    // A hung audit would block this worker's event loop, where the test's own timeout cannot fire.
    timeout: 60_000,
  });

/** Asserts an audit that could not run: exit 2 (1 is a broken ledger), one line saying why, no report. */
function expectCannotRun(r: ReturnType<typeof runAudit>, why: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ledger:audit: the audit could not run, nothing was checked: /);
  expect(lines[0]).toMatch(why);
}

describe("ledger audit", () => {
  it("that cannot run (its database does not answer as asked) exits 2 with the error in one line: no stack, no SQL", () => {
    const url = new URL(system.databaseUrl);
    url.pathname = `/no_such_database_${randomUUID().replaceAll("-", "")}`;
    expectCannotRun(runAudit(url.toString()), /3D000.*does not exist$/);
  });

  it.each([
    ["an unknown option", ["--pending-bound=5"], /Unknown option/],
    ["an option without its value", ["--pending-bound-seconds"], /argument missing/],
    ["a bound that is not a number", ["--pending-bound-seconds=x"], /whole number/],
  ])("with %s exits 2, not 1 (a broken ledger)", (_, args, why) => {
    expectCannotRun(runAudit(system.databaseUrl, args), why);
  });

  it("without DATABASE_URL exits 2 naming it", () => {
    expectCannotRun(runAudit(null), /DATABASE_URL: is required/);
  });

  it("passes on a healthy ledger and fails, naming the broken invariants, once a balance is tampered with", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);
    await api.settle((await api.transfer(a, b, 400)).body.id);

    const healthy = runAudit();
    expect(healthy.status).toBe(0);
    expect(healthy.stdout).toContain("ledger:audit: PASS");

    await system.db.execute(sql`UPDATE wallets SET balance = balance + 1 WHERE id = ${b}`);
    const broken = runAudit();
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(
      "FAIL  balances sum to zero per currency (funding accounts included) (1)",
    );
    expect(broken.stdout).toContain("FAIL  balance = sum of entries, version = entry count");

    const report = await auditLedger(system.db);
    expect(report.checks.filter((c) => c.violations > 0).map((c) => c.name)).toEqual([
      "balances sum to zero per currency (funding accounts included)",
      "balance = sum of entries, version = entry count, versions 1..n without gaps",
    ]);
  });

  it("flags an operation that succeeded without its entries and a broken balanceAfter chain", async () => {
    const op = await system.db.execute<{ id: string }>(
      sql`SELECT id FROM operations WHERE type = 'transfer' LIMIT 1`,
    );
    const id = op.rows[0]?.id as string;
    await system.db.execute(
      sql`UPDATE entries SET balance_after = balance_after + 5 WHERE operation_id = ${id}`,
    );
    await system.db.execute(
      sql`UPDATE operations SET status = 'failed', failure_code = 'insufficient_funds' WHERE id = ${id}`,
    );
    const names = (await auditLedger(system.db)).checks.filter((c) => c.violations > 0).map((c) => c.name);
    expect(names).toContain(
      "each entry's balanceAfter = the previous one's + its amount, and it is dated no earlier",
    );
    expect(names).toContain(
      "a succeeded operation has exactly its two entries (none for a hold or a void); any other none",
    );
  });

  it("flags held money that no active hold accounts for, and a hold resolved twice", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 100)).body.id);
    const hold = await api.settle(
      (
        await api.post(
          "/v1/holds",
          { fromWalletId: a, toWalletId: b, amount: 30 },
          { "idempotency-key": randomUUID() },
        )
      ).body.id,
    );
    const voided = await api.settle(
      (await api.post(`/v1/holds/${hold.id}/void`, {}, { "idempotency-key": randomUUID() })).body.id,
    );
    expect(voided.status).toBe("succeeded");
    const failing = (await auditLedger(system.db)).checks.filter((c) => c.violations > 0).map((c) => c.name);
    await system.db.execute(sql`UPDATE wallets SET held_balance = 7 WHERE id = ${a}`);
    // A second void marked succeeded for the same hold.
    await system.db.execute(sql`
      INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id, hold_id,
                              partition, idempotency_key, request_hash, completed_at)
      SELECT gen_random_uuid(), client_id, 'void', 'succeeded', amount, currency, from_wallet_id, to_wallet_id, id,
             partition, 'second-void', 'h', now()
      FROM operations WHERE id = ${hold.id}`);
    const names = (await auditLedger(system.db)).checks.filter((c) => c.violations > 0).map((c) => c.name);
    expect(names.filter((n) => !failing.includes(n)).sort()).toEqual(
      [
        "held balance = sum of the wallet's active holds",
        "each hold resolved at most once, by the operation its state says",
      ].sort(),
    );
  });

  it("flags a refunded sum that is not its succeeded refunds, and a refund that does not reverse its original", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 50)).body.id);
    const transfer = await api.settle((await api.transfer(a, b, 40)).body.id);
    const refund = await api.settle((await api.refund(transfer.id, 15)).body.id);
    expect(refund.status).toBe("succeeded");
    const check =
      "each original's succeeded refunds sum to its refundedAmount, within its amount; a refund reverses its original";
    const violations = async () =>
      (await auditLedger(system.db)).checks.find((c) => c.name === check)?.violations ?? -1;
    expect(await violations()).toBe(0);
    await system.db.execute(sql`UPDATE operations SET refunded_amount = 16 WHERE id = ${transfer.id}`);
    expect(await violations()).toBe(1);
    await system.db.execute(sql`UPDATE operations SET refunded_amount = 15 WHERE id = ${transfer.id}`);
    await system.db.execute(sql`UPDATE operations SET to_wallet_id = ${b} WHERE id = ${refund.id}`);
    expect(await violations()).toBe(1);
  });

  it("flags an entry dated before the entry it follows", async () => {
    const a = await newWallet(api);
    await api.settle((await api.topUp(a, 5)).body.id);
    await api.settle((await api.topUp(a, 6)).body.id);
    const clean = await auditLedger(system.db);
    const chain = (r: typeof clean) => r.checks.find((c) => c.name.startsWith("each entry's balanceAfter"));
    const before = chain(clean)?.violations ?? 0;
    await system.db.execute(sql`
      UPDATE entries SET created_at = created_at - interval '1 second'
      WHERE wallet_id = ${a} AND wallet_version = 2`);
    const report = await auditLedger(system.db);
    expect(chain(report)?.violations).toBe(before + 1);
    expect(chain(report)?.sample).toContainEqual({ wallet_id: a, wallet_version: "2" });
  });

  it("flags a succeeded top-up whose credit was posted to another wallet, and an operation pending too long", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    const topUp = await api.settle((await api.topUp(a, 300)).body.id);
    await system.db.execute(
      sql`UPDATE entries SET wallet_id = ${b} WHERE operation_id = ${topUp.id} AND amount > 0`,
    );
    // Accepted an hour ago and still queued (as the accept path writes it: the row and its queue row),
    // in the partition that is not a's: a's runner lingers after the top-up and could apply it.
    const idle = 1 - (await partitionOf(system, a));
    await system.db.execute(sql`
      WITH stale AS (
        INSERT INTO operations (id, client_id, type, amount, currency, to_wallet_id, partition, idempotency_key, request_hash, created_at)
        SELECT gen_random_uuid(), client_id, 'top_up', 1, 'USD', ${a}, ${idle}, 'stale', 'h', now() - interval '1 hour'
        FROM wallets WHERE id = ${a}
        RETURNING id, partition, seq
      )
      INSERT INTO pending_operations (partition, seq, operation_id) SELECT partition, seq, id FROM stale`);
    const report = await auditLedger(system.db, { pendingBoundSeconds: 60 });
    const pairing = report.checks.find((c) => c.name.startsWith("a succeeded operation"));
    expect(pairing?.sample).toContainEqual({ id: topUp.id, type: "top_up", status: "succeeded", entries: 2 });
    expect(report.checks.find((c) => c.name.startsWith("nothing pending"))?.violations).toBe(1);
  });

  it("flags a pending operation out of the queue, a queued final one, and references to rows that do not exist", async () => {
    const a = await newWallet(api);
    const done = await api.settle((await api.topUp(a, 7)).body.id);
    const checks = async () => {
      const report = await auditLedger(system.db);
      const find = (prefix: string) => report.checks.find((c) => c.name.startsWith(prefix));
      return { queue: find("pending exactly while queued"), refs: find("every reference") };
    };
    const before = await checks();
    expect(before.queue?.violations).toBe(0);
    expect(before.refs?.violations).toBe(0);

    const unqueued = randomUUID();
    await system.db.execute(sql`
      INSERT INTO operations (id, client_id, type, amount, currency, to_wallet_id, partition, idempotency_key, request_hash)
      SELECT ${unqueued}, client_id, 'top_up', 1, 'USD', ${a}, 0, 'unqueued', 'h' FROM wallets WHERE id = ${a}`);
    await system.db.execute(sql`
      INSERT INTO pending_operations (partition, seq, operation_id)
      SELECT partition, seq, id FROM operations WHERE id = ${done.id}`);
    const nowhere = randomUUID();
    await system.db.execute(
      sql`UPDATE entries SET wallet_id = ${nowhere} WHERE operation_id = ${done.id} AND amount > 0`,
    );
    await system.db.execute(sql`UPDATE operations SET to_wallet_id = ${nowhere} WHERE id = ${unqueued}`);

    const after = await checks();
    expect(after.queue?.sample).toEqual(
      expect.arrayContaining([
        { id: unqueued, status: "pending" },
        { id: done.id, status: null },
      ]),
    );
    expect(after.refs?.sample).toEqual(
      expect.arrayContaining([
        { kind: "operation", id: unqueued },
        { kind: "entry", id: expect.any(String) },
      ]),
    );
  });
});
