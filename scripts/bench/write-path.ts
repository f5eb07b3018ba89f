import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import pino from "pino";
import { requestHash } from "../../shared/canonical.ts";
import { BATCH_SETTINGS, sessionOptions, WRITE_PATH_SETTINGS } from "../../shared/db/client.ts";
import { runMigrations } from "../../shared/db/migrate.ts";
import { insertPendingMany, type NewPendingOperation } from "../../shared/db/operation-batch-repo.ts";
import { newId, uuidV7AtSql } from "../../shared/ids.ts";
import { BatchSlots } from "../../worker/batch-slots.ts";
import { runPartition } from "../../worker/partition-runner.ts";
import { procStats } from "./bench-processes.ts";
import { dropDatabase, withPg } from "./pg-reference.ts";
import { SEED_BALANCE } from "./scenarios.ts";
import { seedWallets } from "./seed-wallets.ts";

/**
 * `node scripts/bench/write-path.ts [options]`: the write path's Postgres cost per operation
 * with nothing else in the way (no HTTP, no Redis, no lock waits): the accept path's group
 * insert and the runner's batches (the real `insertPendingMany` and `runPartition`), run one
 * after the other on two connections of a fresh database. Reports each connection's backend
 * CPU, its own CPU (encoding parameters, parsing rows, the runner's work) and the WAL written
 * per operation, and, where the server has `pg_stat_statements`, buffer
 * accesses and WAL per statement. Deterministic enough for A/Bs of the schema and statements
 * (docs/performance.md, "Anatomy of the write path").
 */

const HELP = `node scripts/bench/write-path.ts [options]
  --ops=N          operations to accept and apply (default 50000)
  --batch=N        operations per partition batch (default 100)
  --group=N        rows per accept insert (default 320)
  --wallets=N      client wallets (default 10000)
  --partitions=N   PARTITIONS (default 16)
  --type=T         transfer | top_up (default transfer)
  --together       run the partitions' runners at once on one batch slot, so that those waiting
                   for it apply their partitions in one transaction (by default one after another)
  --history=N      N earlier operations of the client (failed transfers, a day old, random keys)
                   in the database before the run, vacuumed, then a checkpoint: what the accept's
                   indexes cost once they no longer fit in memory (default 0)
  --hold-snapshot  hold a REPEATABLE READ snapshot open in the database for the whole run (a long
                   audit or dump): what vacuum and pruning cannot remove meanwhile
  --keep           leave the database behind
Postgres: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432).`;

const { values } = parseArgs({
  options: {
    ops: { type: "string" },
    batch: { type: "string" },
    group: { type: "string" },
    wallets: { type: "string" },
    partitions: { type: "string" },
    type: { type: "string" },
    together: { type: "boolean" },
    "hold-snapshot": { type: "boolean" },
    history: { type: "string" },
    keep: { type: "boolean" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const o = {
  ops: num(values.ops, 50_000),
  batch: num(values.batch, 100),
  group: num(values.group, 320),
  wallets: num(values.wallets, 10_000),
  partitions: num(values.partitions, 16),
  type: values.type === "top_up" ? ("top_up" as const) : ("transfer" as const),
  history: num(values.history, 0),
};
const serverUrl = (process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432").replace(/\/$/, "");
const database = `writepath_${randomBytes(4).toString("hex")}`;

/** CPU ms of a backend, from /proc (the server runs on this machine). */
const cpuOf = (pid: number): number => procStats(pid)?.cpuMs ?? 0;

async function walLsn(c: pg.Client): Promise<bigint> {
  const r = await c.query<{ b: string }>("SELECT (pg_current_wal_insert_lsn() - '0/0')::text AS b");
  return BigInt(r.rows[0]?.b ?? "0");
}

/**
 * `count` failed transfers of `clientId` between its wallets, accepted over the past day (ids
 * and `seq` older than the run's, random idempotency keys as clients send them), then the table
 * vacuumed and a checkpoint: the accept's indexes as a long-lived deployment has them. Failed
 * transfers have no entries, so the ledger stays as the audit wants it.
 */
async function seedHistory(c: pg.Client, clientId: string, count: number, partitions: number): Promise<void> {
  await c.query(
    `WITH w AS (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM wallets WHERE kind = 'client')
     INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id,
                             failure_code, failure_message, partition, idempotency_key, request_hash,
                             created_at, completed_at)
     SELECT ${uuidV7AtSql("t.at")},
            $1, 'transfer', 'failed', 1 + i % 1000, 'USD', w.ids[1 + i % w.n], w.ids[1 + (i * 7 + 3) % w.n],
            'insufficient_funds', 'Insufficient funds', i % $3::int, substr(md5(random()::text), 1, 22),
            md5(i::text) || md5((i + 1)::text), t.at, t.at
     FROM w, generate_series(1, $2::int) AS i,
          LATERAL (SELECT now() - interval '1 day' + (i * (interval '1 day' / $2::int))) AS t(at)`,
    [clientId, count, partitions],
  );
  await c.query("VACUUM (ANALYZE) operations");
  await c.query("CHECKPOINT");
}

async function main(): Promise<void> {
  await withPg(serverUrl, "postgres", (c) => c.query(`CREATE DATABASE ${database}`));
  const url = `${serverUrl}/${database}`;
  const admin = new pg.Client({ connectionString: url });
  // The session settings of the api's accept pool and the workers' pool.
  const accept = new pg.Client({ connectionString: url, options: sessionOptions(WRITE_PATH_SETTINGS) });
  const pool = new pg.Pool({ connectionString: url, max: 1, options: sessionOptions(BATCH_SETTINGS) });
  try {
    await runMigrations({ url, partitions: o.partitions, folder: "drizzle" });
    await admin.connect();
    await accept.connect();
    const clientId = newId();
    await admin.query(
      `INSERT INTO clients (id, name, api_key_hash, api_key_prefix) VALUES ($1, 'bench', $2, 'sk_bench')`,
      [clientId, randomBytes(32).toString("hex")],
    );
    await seedWallets(admin, {
      clientId,
      count: o.wallets,
      balance: SEED_BALANCE,
      partitions: o.partitions,
      currency: "USD",
    });
    const wallets = (
      await admin.query<{ id: string }>("SELECT id FROM wallets WHERE kind = 'client' ORDER BY id")
    ).rows;
    if (o.history > 0) await seedHistory(admin, clientId, o.history, o.partitions);
    const pick = () => wallets[Math.floor(Math.random() * wallets.length)] as (typeof wallets)[number];
    const row = (): NewPendingOperation => {
      const to = pick();
      const from = o.type === "transfer" ? pick() : undefined;
      const amount = 1 + Math.floor(Math.random() * 1000);
      const body =
        o.type === "transfer"
          ? { type: o.type, fromWalletId: from?.id, toWalletId: to.id, amount, metadata: {} }
          : { type: o.type, walletId: to.id, amount, metadata: {} };
      return {
        id: newId(),
        clientId,
        type: o.type,
        amount: BigInt(amount),
        // Placed by its wallets, as the api sends a top-up or transfer: the insert checks them.
        currency: null,
        fromWalletId: from?.id ?? null,
        toWalletId: to.id,
        holdId: null,
        expiresInSeconds: null,
        metadata: {},
        partition: null,
        idempotencyKey: randomBytes(16).toString("base64url"),
        requestHash: requestHash(body as never),
      };
    };

    if (values["hold-snapshot"]) {
      // The admin connection's later statements (WAL positions) run inside this transaction.
      await admin.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      await admin.query("SELECT 1 FROM wallets LIMIT 1");
    }
    const acceptPid =
      (await accept.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid ?? 0;
    const batchPid = (await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid ?? 0;
    // pg_stat_statements is read from the server's `postgres` database, where it is installed
    // (and answers only while the server preloads it).
    const hasStatements = await withPg(serverUrl, "postgres", async (c) => {
      const r = await c.query(
        `SELECT 1 FROM pg_extension
         WHERE extname = 'pg_stat_statements'
           AND current_setting('shared_preload_libraries') ~ 'pg_stat_statements'`,
      );
      if (r.rowCount === 1) await c.query("SELECT pg_stat_statements_reset()");
      return r.rowCount === 1;
    });

    const log = pino({ level: "warn" });
    const funding = new Map<string, string>();
    const deps = {
      pool,
      batchCap: () => o.batch,
      log,
      clearDirty: async () => {},
      publish: async () => {},
      stopping: () => false,
      slots: new BatchSlots(1),
      funding,
    };
    let wal = { accept: 0n, batch: 0n };
    // This process's CPU in the inserts and in the runner: parameters encoded, results parsed.
    const own = { accept: 0, batch: 0 };
    const ownMs = (since: NodeJS.CpuUsage): number => {
      const u = process.cpuUsage(since);
      return (u.user + u.system) / 1000;
    };
    const cpu0 = { accept: cpuOf(acceptPid), batch: cpuOf(batchPid) };
    const started = performance.now();
    const perRound = o.batch * o.partitions;
    for (let done = 0; done < o.ops; done += perRound) {
      const rows = Array.from({ length: Math.min(perRound, o.ops - done) }, row);
      let lsn = await walLsn(admin);
      let since = process.cpuUsage();
      for (let i = 0; i < rows.length; i += o.group)
        await insertPendingMany(accept, rows.slice(i, i + o.group));
      own.accept += ownMs(since);
      let next = await walLsn(admin);
      wal = { ...wal, accept: wal.accept + next - lsn };
      lsn = next;
      since = process.cpuUsage();
      const partitions = Array.from({ length: o.partitions }, (_, p) => p);
      if (values.together) await Promise.all(partitions.map((p) => runPartition(p, deps)));
      else for (const p of partitions) await runPartition(p, deps);
      own.batch += ownMs(since);
      next = await walLsn(admin);
      wal = { ...wal, batch: wal.batch + next - lsn };
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = { accept: cpuOf(acceptPid) - cpu0.accept, batch: cpuOf(batchPid) - cpu0.batch };
    if (values["hold-snapshot"]) await admin.query("COMMIT");
    const pending = (await admin.query<{ n: string }>("SELECT count(*) AS n FROM pending_operations")).rows[0]
      ?.n;
    const us = (ms: number) => Math.round((ms * 1000) / o.ops);
    console.log(
      `write-path: ${o.ops} ${o.type}s, batches of ${o.batch}, inserts of ${o.group}, ${o.wallets} wallets, ` +
        `${seconds.toFixed(1)} s, ${pending} left pending`,
    );
    console.log(
      `backend CPU µs/op: accept ${us(cpu.accept)}, batch ${us(cpu.batch)}, total ${us(cpu.accept + cpu.batch)}; ` +
        `WAL bytes/op: accept ${Number(wal.accept) / o.ops}, batch ${Number(wal.batch) / o.ops}`,
    );
    console.log(
      `this process's CPU µs/op (node-postgres and the runner): accept ${us(own.accept)}, batch ${us(own.batch)}, ` +
        `total ${us(own.accept + own.batch)}`,
    );
    if (hasStatements) {
      const r = await withPg(serverUrl, "postgres", (c) =>
        c.query(
          `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS statement, calls,
                round((total_exec_time * 1000 / $1::float8)::numeric, 1) AS us_op,
                round((shared_blks_hit + shared_blks_read)::numeric / $1::numeric, 1) AS buffers_op,
                round(shared_blks_dirtied::numeric / $1::numeric, 2) AS dirtied_op,
                round(wal_bytes::numeric / $1::numeric) AS wal_bytes_op,
                round(wal_records::numeric / $1::numeric, 1) AS wal_records_op
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
         WHERE d.datname = $2 AND total_exec_time * 1000 / $1::float8 >= 0.5
         ORDER BY total_exec_time DESC`,
          [o.ops, database],
        ),
      );
      console.table(r.rows);
    }
  } finally {
    await pool.end();
    await accept.end().catch(() => {});
    await admin.end().catch(() => {});
    if (!values.keep) await dropDatabase(serverUrl, database).catch(() => {});
  }
}

await main();
