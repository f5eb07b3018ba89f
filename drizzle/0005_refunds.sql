-- Refunds (docs/design.md, "Refunds"). Adding a column with a constant default rewrites no row
-- (Postgres 11+): every existing operation reads refunded_amount 0, which is right for a transfer
-- or capture with no refund yet, and the API shows null for the other types. refund_of is a
-- reference the database keeps as it keeps the others of operations (migration 0004): the
-- accept insert joins the original, the triggers refuse its deletion, the audit checks it.
ALTER TABLE "operations" DROP CONSTRAINT "operations_type_valid";--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "refund_of" uuid;--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "refunded_amount" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_refund_matches_type" CHECK (("operations"."type" = 'refund') = ("operations"."refund_of" IS NOT NULL));--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_refunded_within_amount" CHECK ("operations"."refunded_amount" >= 0 AND "operations"."refunded_amount" <= "operations"."amount" AND ("operations"."refunded_amount" = 0 OR "operations"."type" IN ('transfer', 'capture')));--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_type_valid" CHECK ("operations"."type" IN ('top_up', 'transfer', 'payout', 'hold', 'capture', 'void', 'refund'));