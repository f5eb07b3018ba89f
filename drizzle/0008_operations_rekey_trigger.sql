-- The trigger that refuses a change of an operation's id (migration 0004) fires after the row,
-- not before it: Postgres locks the row for a BEFORE UPDATE row trigger before it looks at the
-- trigger's column list, so every status update of an operation wrote a lock record (WAL) and
-- dirtied the row once more, although it never changes `id`. After the row, the same change is
-- refused (the statement fails and is rolled back) and an update that leaves `id` alone costs
-- nothing. DELETE stays refused before the row. The wallets' and clients' triggers stay as they
-- are: the runner has locked a wallet before it updates it, so their lock costs no record.
-- No stop needed; nothing is rewritten.
DROP TRIGGER "operations_never_removed" ON "operations";
--> statement-breakpoint
CREATE TRIGGER "operations_never_removed" BEFORE DELETE ON "operations"
  FOR EACH ROW EXECUTE FUNCTION "refuse_ledger_row_removal"();
--> statement-breakpoint
CREATE TRIGGER "operations_never_rekeyed" AFTER UPDATE OF "id" ON "operations"
  FOR EACH ROW EXECUTE FUNCTION "refuse_ledger_row_removal"();
