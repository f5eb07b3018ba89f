-- The write path at the cost its guarantees need (issue 22; docs/design.md, "Storage layout").
-- Stop the api and the workers while this runs: older processes know nothing of
-- pending_operations.
--
-- 1. Pending operations are queued in a table of their own: no index of operations names a
--    column the status update changes, so that update is HOT and adds no index entry.
CREATE TABLE "pending_operations" (
	"partition" integer NOT NULL,
	"seq" bigint NOT NULL,
	"operation_id" uuid NOT NULL,
	CONSTRAINT "pending_operations_pkey" PRIMARY KEY("partition","seq")
);
--> statement-breakpoint
INSERT INTO "pending_operations" ("partition", "seq", "operation_id")
SELECT "partition", "seq", "id" FROM "operations" WHERE "status" = 'pending';
--> statement-breakpoint
-- 2. The foreign keys of the two high-volume tables give way to the same guarantee, enforced
--    otherwise: a row they referenced can never be deleted nor have its key changed (these
--    triggers), the inserts take their references from the referenced rows (joins, counted by
--    the code), and the ledger audit checks every reference.
ALTER TABLE "entries" DROP CONSTRAINT "entries_operation_id_operations_id_fk";
--> statement-breakpoint
ALTER TABLE "entries" DROP CONSTRAINT "entries_wallet_id_wallets_id_fk";
--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_client_id_clients_id_fk";
--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_from_wallet_id_wallets_id_fk";
--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_to_wallet_id_wallets_id_fk";
--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_hold_id_operations_id_fk";
--> statement-breakpoint
-- 3. balance?at= searches a wallet's versions on the primary key (entries are dated in version
--    order): the index by date cost a B-tree insertion per entry.
DROP INDEX "entries_wallet_id_created_at_idx";
--> statement-breakpoint
-- (1, continued) The runner reads the queue, not a partial index of operations.
DROP INDEX "operations_pending_partition_seq_idx";
--> statement-breakpoint
CREATE FUNCTION "refuse_ledger_row_removal"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id IS NOT DISTINCT FROM OLD.id THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'rows of % are referenced by the ledger: they are never deleted nor re-keyed (%)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER "clients_never_removed" BEFORE DELETE OR UPDATE OF "id" ON "clients"
  FOR EACH ROW EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
CREATE TRIGGER "clients_never_truncated" BEFORE TRUNCATE ON "clients"
  FOR EACH STATEMENT EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
CREATE TRIGGER "wallets_never_removed" BEFORE DELETE OR UPDATE OF "id" ON "wallets"
  FOR EACH ROW EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
CREATE TRIGGER "wallets_never_truncated" BEFORE TRUNCATE ON "wallets"
  FOR EACH STATEMENT EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
CREATE TRIGGER "operations_never_removed" BEFORE DELETE OR UPDATE OF "id" ON "operations"
  FOR EACH ROW EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
CREATE TRIGGER "operations_never_truncated" BEFORE TRUNCATE ON "operations"
  FOR EACH STATEMENT EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
-- 4. Room on each new page of operations for its rows' status updates (HOT needs the new version
--    on the same page).
ALTER TABLE "operations" SET (fillfactor = 70);
