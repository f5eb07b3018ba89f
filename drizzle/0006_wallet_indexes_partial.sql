-- A wallet's operations are listed from one index per side. A top-up has no source wallet and a
-- payout no destination: their NULL entries served no query and cost each of them a B-tree
-- insertion (about 100 bytes of WAL per top-up; docs/performance.md). The new indexes hold only the
-- operations with a wallet on their side; `from_wallet_id = $1` implies the predicate, so the
-- listing uses them as before. Stop the api and the workers while this runs on a large table:
-- the rebuild blocks writes to operations.
DROP INDEX "operations_from_wallet_id_idx";--> statement-breakpoint
DROP INDEX "operations_to_wallet_id_idx";--> statement-breakpoint
CREATE INDEX "operations_from_wallet_id_idx" ON "operations" USING btree ("from_wallet_id","id") WHERE "operations"."from_wallet_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "operations_to_wallet_id_idx" ON "operations" USING btree ("to_wallet_id","id") WHERE "operations"."to_wallet_id" IS NOT NULL;
