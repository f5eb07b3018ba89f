import { drizzle } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { ensureFundingAccounts } from "../../shared/db/wallet-repo.ts";
import { UUID_V7_SQL } from "../../shared/ids.ts";

/** shared/ids.ts `partitionOf` in SQL: the first 4 bytes of SHA-256(id text), big-endian, mod P. */
const partitionOf = (idColumn: string, partitions: number) =>
  `(('x' || substr(encode(sha256(convert_to(${idColumn}::text, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint % ${partitions})::int`;

interface SeedOptions {
  clientId: string;
  /** Client wallets to create. */
  count: number;
  /** Each wallet's opening balance, minor units, put there by one succeeded top-up. */
  balance: bigint;
  partitions: number;
  currency: string;
}

/**
 * Creates `count` funded wallets of one client with set-based SQL in one transaction, keeping
 * every ledger invariant, as if each wallet had been created and topped up once through the api:
 * the currency's funding accounts (one per partition), the wallets (version 1), one succeeded
 * top-up operation each (key `seed-<wallet id>`, the request hash the api would compute), its two
 * entries (the funding account's debits numbered 1..n per partition in `seq` order, with running
 * balances), and the funding accounts' balances and versions. Then VACUUM ANALYZE, so the
 * scenario starts with planner statistics and a set visibility map.
 */
export async function seedWallets(client: pg.Client, o: SeedOptions): Promise<void> {
  const P = o.partitions;
  const amount = o.balance.toString();
  const cur = o.currency;
  if (!/^[A-Z]{3}$/.test(cur)) throw new Error("bad currency");
  await client.query("BEGIN");
  // Foreign keys hold by construction (every row is made from rows of this transaction); their
  // row-by-row triggers would double the time of a 1,000,000-wallet seed, so they are off for
  // this transaction only and checked set-based below. CHECKs and unique indexes still apply.
  await client.query("SET LOCAL session_replication_role = replica");
  try {
    await ensureFundingAccounts(drizzle({ client }), cur, P);
    await client.query(
      `INSERT INTO wallets (id, kind, client_id, currency, balance, version, partition)
       SELECT id, 'client', $1, $2, $3::bigint, 1, ${partitionOf("id", P)}
       FROM (SELECT ${UUID_V7_SQL} AS id FROM generate_series(1, $4::int)) AS s`,
      [o.clientId, cur, amount, o.count],
    );
    // Canonical JSON of {type, walletId, amount, metadata: {}} with sorted keys: shared/canonical.ts.
    // Random idempotency keys, as the load generator sends: the history fills the idempotency
    // index the way a real one would, at random places rather than in order.
    await client.query(
      `INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id,
                               metadata, partition, idempotency_key, request_hash, completed_at)
       SELECT ${UUID_V7_SQL}, w.client_id, 'top_up', 'succeeded', w.balance, w.currency, NULL, w.id,
              '{}', w.partition, 'seed-' || gen_random_uuid(),
              encode(sha256(convert_to('{"amount":' || w.balance || ',"metadata":{},"type":"top_up","walletId":"'
                                       || w.id || '"}', 'UTF8')), 'hex'),
              now()
       FROM wallets w WHERE w.kind = 'client' AND w.client_id = $1 AND w.version = 1`,
      [o.clientId],
    );
    await client.query(
      `INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
       SELECT ${UUID_V7_SQL}, o.id, o.to_wallet_id, o.amount, o.amount, 1
       FROM operations o WHERE o.idempotency_key LIKE 'seed-%' AND o.client_id = $1`,
      [o.clientId],
    );
    await client.query(
      `INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
       SELECT ${UUID_V7_SQL}, o.id, f.id, -o.amount,
              f.balance - sum(o.amount) OVER w, f.version + row_number() OVER w
       FROM operations o
       JOIN wallets f ON f.kind = 'funding' AND f.currency = o.currency AND f.partition = o.partition
       WHERE o.idempotency_key LIKE 'seed-%' AND o.client_id = $1
       WINDOW w AS (PARTITION BY o.partition ORDER BY o.seq)`,
      [o.clientId],
    );
    await client.query(
      `UPDATE wallets f SET balance = f.balance - s.total, version = f.version + s.n, updated_at = now()
       FROM (SELECT partition, currency, sum(amount) AS total, count(*) AS n FROM operations
             WHERE idempotency_key LIKE 'seed-%' AND client_id = $1 GROUP BY partition, currency) AS s
       WHERE f.kind = 'funding' AND f.partition = s.partition AND f.currency = s.currency`,
      [o.clientId],
    );
    await assertForeignKeys(client);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
  await client.query("VACUUM (ANALYZE) wallets, operations, entries");
}

/** The seed's rows reference existing rows: what the foreign-key triggers would have checked. */
async function assertForeignKeys(client: pg.Client): Promise<void> {
  const r = await client.query<{ n: number }>(`
    SELECT (SELECT count(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM operations o WHERE o.id = e.operation_id))
         + (SELECT count(*) FROM entries e WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.id = e.wallet_id))
         + (SELECT count(*) FROM operations o WHERE NOT EXISTS (SELECT 1 FROM wallets w WHERE w.id = o.to_wallet_id))
         + (SELECT count(*) FROM operations o WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = o.client_id))
         + (SELECT count(*) FROM wallets w WHERE w.client_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = w.client_id)) AS n`);
  const dangling = Number(r.rows[0]?.n ?? -1);
  if (dangling !== 0) throw new Error(`seed: ${dangling} rows reference nothing`);
}

/** Ids of the client's wallets, one a line (what the load generator picks from). */
export async function walletIds(client: pg.Client, clientId: string): Promise<string> {
  const r = await client.query<{ ids: string }>(
    `SELECT string_agg(id::text, E'\\n') AS ids FROM wallets WHERE client_id = $1`,
    [clientId],
  );
  return r.rows[0]?.ids ?? "";
}
