-- Seeds a migrated, empty database with a consistent ledger at scale, to time `npm run ledger:audit`:
-- 1,000,000 client wallets (16 partitions), 1,000,000 top-ups from the per-partition funding
-- accounts and 500,000 transfers: 1.5 M operations, 3 M entries, every invariant holding.
--   createdb -h 127.0.0.1 -U postgres audit_scale
--   DATABASE_URL=postgres://postgres@127.0.0.1:5432/audit_scale npm run db:migrate
--   psql -h 127.0.0.1 -U postgres -d audit_scale -f scripts/ledger-audit-scale.sql
--   DATABASE_URL=postgres://postgres@127.0.0.1:5432/audit_scale npm run ledger:audit
INSERT INTO clients (id, name, api_key_hash, api_key_prefix)
  VALUES ('00000000-0000-7000-8000-000000000001', 'scale', 'x', 'sk_x');
INSERT INTO wallets (id, kind, client_id, currency, partition)
  SELECT gen_random_uuid(), 'funding', NULL, 'USD', p FROM generate_series(0,15) p;
CREATE TEMP TABLE w AS SELECT i, gen_random_uuid() AS id, i % 16 AS p FROM generate_series(1,1000000) i;
INSERT INTO wallets (id, kind, client_id, currency, partition, balance, version)
  SELECT id, 'client', '00000000-0000-7000-8000-000000000001', 'USD', p,
         CASE WHEN i % 2 = 0 THEN 999 ELSE 1001 END, 2 FROM w;
CREATE TEMP TABLE t AS SELECT w.i, w.id AS wallet, w.p, gen_random_uuid() AS op, f.id AS funding,
  row_number() OVER (PARTITION BY w.p ORDER BY w.i) AS fv
  FROM w JOIN wallets f ON f.kind='funding' AND f.partition = w.p;
INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id, partition, idempotency_key, request_hash, completed_at)
  SELECT op, '00000000-0000-7000-8000-000000000001', 'top_up', 'succeeded', 1000, 'USD', NULL, wallet, p, 't'||i, 'h', now() FROM t ORDER BY i;
INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
  SELECT gen_random_uuid(), op, wallet, 1000, 1000, 1 FROM t
  UNION ALL SELECT gen_random_uuid(), op, funding, -1000, -1000 * fv, fv FROM t;
UPDATE wallets f SET balance = -1000 * x.n, version = x.n FROM (SELECT p, count(*) n FROM t GROUP BY p) x WHERE f.kind='funding' AND f.partition = x.p;
CREATE TEMP TABLE x AS SELECT a.id AS src, b.id AS dst, a.p, gen_random_uuid() AS op, a.i FROM w a JOIN w b ON b.i = a.i - 1 WHERE a.i % 2 = 0;
INSERT INTO operations (id, client_id, type, status, amount, currency, from_wallet_id, to_wallet_id, partition, idempotency_key, request_hash, completed_at)
  SELECT op, '00000000-0000-7000-8000-000000000001', 'transfer', 'succeeded', 1, 'USD', src, dst, p, 'x'||i, 'h', now() FROM x ORDER BY i;
INSERT INTO entries (id, operation_id, wallet_id, amount, balance_after, wallet_version)
  SELECT gen_random_uuid(), op, src, -1, 999, 2 FROM x UNION ALL SELECT gen_random_uuid(), op, dst, 1, 1001, 2 FROM x;
ANALYZE;
SELECT (SELECT count(*) FROM entries) entries, (SELECT count(*) FROM operations) ops, (SELECT count(*) FROM wallets) wallets;
