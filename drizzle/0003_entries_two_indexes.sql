-- Entries keep two indexes, each serving a query of the contract: the key (wallet_id,
-- wallet_version), which was a unique index beside an id primary key, and the instant index of
-- balance?at=. Nothing looks an entry up by its id or, outside the audit's full scans, by its
-- operation: those two indexes cost a B-tree insertion per entry and served no query.
ALTER TABLE "entries" DROP CONSTRAINT "entries_pkey";--> statement-breakpoint
ALTER TABLE "entries" ADD CONSTRAINT "entries_pkey" PRIMARY KEY("wallet_id","wallet_version");--> statement-breakpoint
DROP INDEX "entries_wallet_id_wallet_version_key";--> statement-breakpoint
DROP INDEX "entries_operation_id_idx";
