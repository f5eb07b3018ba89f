-- A hold's captures and voids, by hold. The sweeper voids an active hold past its expiry unless a
-- capture or void of it accepted before the expiry still waits in its partition's queue: that
-- one wins, and a system void behind it could only fail `hold_not_active`, an operation and a
-- webhook the client never asked for. Only captures and voids have a hold, so no other
-- operation gets an index entry, and `hold_id` never changes, so status updates stay HOT.
-- Builds under a SHARE lock: accepts and status updates of operations wait meanwhile, reads do
-- not (docs/operations.md, "Upgrades").
CREATE INDEX "operations_hold_id_idx" ON "operations" USING btree ("hold_id") WHERE "operations"."hold_id" IS NOT NULL;
