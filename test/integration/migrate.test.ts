import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDb } from "../../shared/db/client.ts";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { runMigrations } from "../../shared/db/migrate.ts";
import { runPartition } from "../../worker/partition-runner.ts";
import { runnerDeps } from "../helpers/runner.ts";
import { dbUrl, REDIS_URL, withAdminPg } from "../helpers/services.ts";
import { spawnWorkerProcess } from "../helpers/system.ts";

const database = `billing_migrate_${randomBytes(4).toString("hex")}`;
const url = dbUrl(database);
const populated = `billing_migrate_old_${randomBytes(4).toString("hex")}`;
afterAll(() =>
  withAdminPg(async (c) => {
    for (const db of [database, populated]) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  }),
);

/** A copy of drizzle/ holding only the first `count` migrations (the schema an older release left). */
function migrationsUpTo(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "billing-migrations-"));
  cpSync("drizzle", dir, { recursive: true });
  const journalFile = join(dir, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, count);
  writeFileSync(journalFile, JSON.stringify(journal));
  return dir;
}

describe("db:migrate and PARTITIONS", () => {
  it("is safe to run twice, records PARTITIONS once and refuses another value", async () => {
    await withAdminPg((c) => c.query(`CREATE DATABASE ${database}`));
    await runMigrations({ url, partitions: 8, folder: "drizzle" });
    await runMigrations({ url, partitions: 8, folder: "drizzle" });
    await expect(runMigrations({ url, partitions: 16, folder: "drizzle" })).rejects.toThrow(
      "PARTITIONS=16 but this deployment was created with PARTITIONS=8",
    );
    const handle = openDb({ url, poolSize: 1, applicationName: "test" });
    const tables = await handle.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.rows[0]?.n).toBe(10);
    await handle.close();
  });

  it("a worker started with another PARTITIONS value refuses to start, naming both values", async () => {
    const child = spawnWorkerProcess({
      DATABASE_URL: url,
      REDIS_URL,
      PARTITIONS: "4",
      QUEUE_PREFIX: "migrate-test",
    });
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).not.toBe(0);
    expect(output).toContain("PARTITIONS=4 but this deployment was created with PARTITIONS=8");
  });
});

describe("migrations 0004-0010 (the write path) on a database of the 0003 schema, with data", () => {
  it("queues the pending operations, drops the foreign keys for the triggers, and the ledger goes on", async () => {
    await withAdminPg((c) => c.query(`CREATE DATABASE ${populated}`));
    const oldUrl = dbUrl(populated);
    const old = migrationsUpTo(4);
    try {
      await runMigrations({ url: oldUrl, partitions: 2, folder: old });
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
    const handle = openDb({ url: oldUrl, poolSize: 2, applicationName: "test" });
    try {
      // As release 0003 left it: a client, two wallets, the funding accounts, a succeeded top-up of
      // 100 to A with its entries, and two operations still pending (a transfer A → B of 30, a
      // top-up of B of 5), the second accepted before the first.
      await handle.db.execute(sql`
        WITH client AS (
          INSERT INTO clients (id, name, api_key_hash, api_key_prefix)
          VALUES ('00000000-0000-7000-8000-000000000001', 'old', 'h', 'sk_old') RETURNING id
        ), funding AS (
          INSERT INTO wallets (id, kind, currency, partition, balance, version)
          VALUES ('00000000-0000-7000-8000-0000000000f0', 'funding', 'USD', 0, -100, 1),
                 ('00000000-0000-7000-8000-0000000000f1', 'funding', 'USD', 1, 0, 0)
        ), client_wallets AS (
          INSERT INTO wallets (id, kind, client_id, currency, partition, balance, version)
          SELECT * FROM (VALUES ('00000000-0000-7000-8000-00000000000a'::uuid, 'client', (SELECT id FROM client), 'USD', 0, 100, 1),
                                ('00000000-0000-7000-8000-00000000000b'::uuid, 'client', (SELECT id FROM client), 'USD', 1, 0, 0)) v
        )
        SELECT 1`);
      await handle.db.execute(sql`
        INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id, partition,
                                idempotency_key, request_hash, completed_at, seq)
        VALUES ('00000000-0000-7000-8000-000000000101', '00000000-0000-7000-8000-000000000001', 'top_up', 'succeeded', 100,
                'USD', NULL, '00000000-0000-7000-8000-00000000000a', 0, 'k1', 'h', now(), 1),
               ('00000000-0000-7000-8000-000000000103', '00000000-0000-7000-8000-000000000001', 'transfer', 'pending', 30,
                'USD', '00000000-0000-7000-8000-00000000000a', '00000000-0000-7000-8000-00000000000b', 0, 'k3', 'h', NULL, 3),
               ('00000000-0000-7000-8000-000000000102', '00000000-0000-7000-8000-000000000001', 'top_up', 'pending', 5,
                'USD', NULL, '00000000-0000-7000-8000-00000000000b', 1, 'k2', 'h', NULL, 2)`);
      // A hold of A that failed, and a void of it that failed too (migration 0010 indexes it).
      await handle.db.execute(sql`
        INSERT INTO operations (id, client_id, type, status, failure_code, amount, currency, from_wallet_id,
                                to_wallet_id, partition, idempotency_key, request_hash, completed_at, seq,
                                expires_at, hold_id)
        VALUES ('00000000-0000-7000-8000-000000000104', '00000000-0000-7000-8000-000000000001', 'hold', 'failed',
                'insufficient_funds', 500, 'USD', '00000000-0000-7000-8000-00000000000a',
                '00000000-0000-7000-8000-00000000000b', 0, 'k4', 'h', now(), 4, now(), NULL),
               ('00000000-0000-7000-8000-000000000105', '00000000-0000-7000-8000-000000000001', 'void', 'failed',
                'hold_not_active', 500, 'USD', '00000000-0000-7000-8000-00000000000a',
                '00000000-0000-7000-8000-00000000000b', 0, 'k5', 'h', now(), 5, NULL,
                '00000000-0000-7000-8000-000000000104')`);
      await handle.db.execute(sql`
        INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
        VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000101', '00000000-0000-7000-8000-0000000000f0', -100, -100, 1),
               (gen_random_uuid(), '00000000-0000-7000-8000-000000000101', '00000000-0000-7000-8000-00000000000a', 100, 100, 1)`);

      await runMigrations({ url: oldUrl, partitions: 2, folder: "drizzle" });

      const queued = await handle.db.execute(
        sql`SELECT partition, seq::int, operation_id::text FROM pending_operations ORDER BY seq`,
      );
      expect(queued.rows).toEqual([
        { partition: 1, seq: 2, operation_id: "00000000-0000-7000-8000-000000000102" },
        { partition: 0, seq: 3, operation_id: "00000000-0000-7000-8000-000000000103" },
      ]);
      const keys = await handle.db.execute(sql`
        SELECT conrelid::regclass::text AS t FROM pg_constraint
        WHERE contype = 'f' AND conrelid::regclass::text IN ('operations', 'entries')`);
      expect(keys.rows).toEqual([]);
      const refused = await handle.db
        .execute(sql`DELETE FROM wallets WHERE id = '00000000-0000-7000-8000-00000000000b'`)
        .catch((e: unknown) => e);
      expect(String((refused as { cause?: unknown }).cause ?? refused)).toContain(
        "never deleted nor re-keyed",
      );
      expect(
        (await handle.db.execute(sql`SELECT reloptions FROM pg_class WHERE relname = 'operations'`)).rows,
      ).toEqual([{ reloptions: ["fillfactor=70"] }]);
      // Migration 0008: a change of an operation's id is refused after the row (before it,
      // Postgres locked every row an update touched, the trigger's column or not).
      const timing = await handle.db.execute(sql`
        SELECT tgname, (tgtype & 2) = 0 AS after FROM pg_trigger
        WHERE tgrelid = 'operations'::regclass AND NOT tgisinternal ORDER BY tgname`);
      expect(timing.rows).toEqual([
        { tgname: "operations_never_rekeyed", after: true },
        { tgname: "operations_never_removed", after: false },
        { tgname: "operations_never_truncated", after: false },
      ]);
      const rekeyed = await handle.db
        .execute(
          sql`UPDATE operations SET id = gen_random_uuid() WHERE id = '00000000-0000-7000-8000-000000000101'`,
        )
        .catch((e: unknown) => e);
      expect(String((rekeyed as { cause?: unknown }).cause ?? rekeyed)).toContain(
        "never deleted nor re-keyed",
      );

      // Migration 0009: the idempotency keys are compared byte by byte, still one operation per
      // (client, key), and the keys the old release wrote are found by the index.
      const collation = await handle.db.execute(sql`
        SELECT collation_name FROM information_schema.columns
        WHERE table_name = 'operations' AND column_name = 'idempotency_key'`);
      expect(collation.rows).toEqual([{ collation_name: "C" }]);
      const again = await handle.db
        .execute(sql`
          INSERT INTO operations (id, client_id, type, amount, currency, to_wallet_id, partition,
                                  idempotency_key, request_hash, seq)
          VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', 'top_up', 1, 'USD',
                  '00000000-0000-7000-8000-00000000000b', 1, 'k2', 'h', 9)`)
        .catch((e: unknown) => e);
      expect(String((again as { cause?: unknown }).cause ?? again)).toContain(
        "operations_client_idempotency_key",
      );
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL enable_seqscan = off`);
        const found = await tx.execute<{ "QUERY PLAN": string }>(sql`
          EXPLAIN (COSTS OFF) SELECT id FROM operations
          WHERE client_id = '00000000-0000-7000-8000-000000000001' AND idempotency_key = 'k3'`);
        expect(found.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain(
          "operations_client_idempotency_key",
        );
        const row = await tx.execute(sql`
          SELECT id::text FROM operations
          WHERE client_id = '00000000-0000-7000-8000-000000000001' AND idempotency_key = 'k3'`);
        expect(row.rows).toEqual([{ id: "00000000-0000-7000-8000-000000000103" }]);
      });

      // The new runner applies what the old release left pending, and the books balance.
      for (const partition of [0, 1]) {
        await runPartition(partition, runnerDeps(handle.db.$client, { batchCap: () => 100 }));
      }
      const balances = await handle.db.execute(
        sql`SELECT id::text, balance::int, version::int FROM wallets WHERE kind = 'client' ORDER BY id`,
      );
      expect(balances.rows).toEqual([
        { id: "00000000-0000-7000-8000-00000000000a", balance: 70, version: 2 },
        { id: "00000000-0000-7000-8000-00000000000b", balance: 35, version: 2 },
      ]);
      // Migration 0005: every operation reads refunded_amount 0 (a column default, no row rewritten).
      const refunds = await handle.db.execute(
        sql`SELECT type, refund_of, refunded_amount::int FROM operations ORDER BY id`,
      );
      expect(refunds.rows).toEqual([
        { type: "top_up", refund_of: null, refunded_amount: 0 },
        { type: "top_up", refund_of: null, refunded_amount: 0 },
        { type: "transfer", refund_of: null, refunded_amount: 0 },
        { type: "hold", refund_of: null, refunded_amount: 0 },
        { type: "void", refund_of: null, refunded_amount: 0 },
      ]);
      // Migration 0006: each wallet index holds only the operations with a wallet on its side, and
      // still serves a wallet's operations under a generic plan (the parameter implies the predicate).
      const indexes = await handle.db.execute<{ indexdef: string }>(sql`
        SELECT indexdef FROM pg_indexes
        WHERE indexname IN ('operations_from_wallet_id_idx', 'operations_to_wallet_id_idx') ORDER BY indexname`);
      expect(indexes.rows.map((r) => r.indexdef.replace(/^.* USING /, ""))).toEqual([
        "btree (from_wallet_id, id) WHERE (from_wallet_id IS NOT NULL)",
        "btree (to_wallet_id, id) WHERE (to_wallet_id IS NOT NULL)",
      ]);
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL enable_seqscan = off`);
        await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
        await tx.execute(
          sql`PREPARE credited(uuid) AS SELECT id::text FROM operations WHERE to_wallet_id = $1 ORDER BY id`,
        );
        const b = sql.raw("'00000000-0000-7000-8000-00000000000b'");
        const plan = await tx.execute<{ "QUERY PLAN": string }>(
          sql`EXPLAIN (COSTS OFF) EXECUTE credited(${b})`,
        );
        expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("operations_to_wallet_id_idx");
        expect((await tx.execute(sql`EXECUTE credited(${b})`)).rows).toEqual([
          { id: "00000000-0000-7000-8000-000000000102" },
          { id: "00000000-0000-7000-8000-000000000103" },
          { id: "00000000-0000-7000-8000-000000000104" },
          { id: "00000000-0000-7000-8000-000000000105" },
        ]);
        await tx.execute(sql`DEALLOCATE credited`);
      });
      // Migration 0007: wallets created after it leave room on their pages, so an update (the
      // timestamp here: the same row size as a balance update, and the audit is unmoved)
      // keeps its row on its page (HOT). Packed full (fillfactor 100), every page's first update
      // moved its row. One wallet of each page is updated, and none moves.
      expect(
        (await handle.db.execute(sql`SELECT reloptions FROM pg_class WHERE relname = 'wallets'`)).rows,
      ).toEqual([{ reloptions: ["fillfactor=90"] }]);
      await handle.db.execute(sql`
        INSERT INTO wallets (id, kind, client_id, currency, partition)
        SELECT gen_random_uuid(), 'client', '00000000-0000-7000-8000-000000000001', 'USD', 0
        FROM generate_series(1, 300)`);
      const page = sql.raw("(ctid::text::point)[0]::int");
      const before = await handle.db.execute<{ id: string; page: number }>(sql`
        SELECT DISTINCT ON (${page}) id::text, ${page} AS page FROM wallets ORDER BY ${page}, ctid`);
      expect(before.rows.length).toBeGreaterThanOrEqual(5);
      const ids = `{${before.rows.map((r) => r.id).join(",")}}`;
      await handle.db.execute(sql`UPDATE wallets SET updated_at = now() WHERE id = ANY(${ids}::uuid[])`);
      const after = await handle.db.execute<{ id: string; page: number }>(
        sql`SELECT id::text, ${page} AS page FROM wallets WHERE id = ANY(${ids}::uuid[])`,
      );
      const pageOf = new Map(before.rows.map((r) => [r.id, r.page]));
      expect(after.rows.filter((r) => pageOf.get(r.id) !== r.page)).toEqual([]);

      // Migration 0010: a hold's captures and voids are found by hold, through the new partial
      // index, under a generic plan (the sweeper's probe), the old release's void among them.
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`SET LOCAL enable_seqscan = off`);
        await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
        await tx.execute(sql`PREPARE steps(uuid) AS SELECT id::text FROM operations WHERE hold_id = $1`);
        const h = sql.raw("'00000000-0000-7000-8000-000000000104'");
        const plan = await tx.execute<{ "QUERY PLAN": string }>(sql`EXPLAIN (COSTS OFF) EXECUTE steps(${h})`);
        expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("operations_hold_id_idx");
        expect((await tx.execute(sql`EXECUTE steps(${h})`)).rows).toEqual([
          { id: "00000000-0000-7000-8000-000000000105" },
        ]);
        await tx.execute(sql`DEALLOCATE steps`);
      });

      const report = await auditLedger(handle.db, { pendingBoundSeconds: 0 });
      expect(report.checks.filter((c) => c.violations > 0)).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
