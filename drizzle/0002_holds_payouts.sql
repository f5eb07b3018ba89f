CREATE TABLE "holds" (
	"operation_id" uuid PRIMARY KEY NOT NULL,
	"from_wallet_id" uuid NOT NULL,
	"to_wallet_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"captured_amount" bigint,
	"released_at" timestamp with time zone,
	CONSTRAINT "holds_status_valid" CHECK ("holds"."status" IN ('active', 'captured', 'voided', 'expired')),
	CONSTRAINT "holds_amount_positive" CHECK ("holds"."amount" > 0 AND "holds"."amount" <= 9007199254740991),
	CONSTRAINT "holds_captured_within_amount" CHECK (("holds"."status" = 'captured') = ("holds"."captured_amount" IS NOT NULL) AND ("holds"."captured_amount" IS NULL OR ("holds"."captured_amount" > 0 AND "holds"."captured_amount" <= "holds"."amount"))),
	CONSTRAINT "holds_released_iff_resolved" CHECK (("holds"."status" = 'active') = ("holds"."released_at" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_type_valid";--> statement-breakpoint
ALTER TABLE "operations" DROP CONSTRAINT "operations_source_matches_type";--> statement-breakpoint
ALTER TABLE "operations" ALTER COLUMN "to_wallet_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "hold_id" uuid;--> statement-breakpoint
ALTER TABLE "operations" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "wallets" ADD COLUMN "held_balance" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "holds" ADD CONSTRAINT "holds_operation_id_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holds" ADD CONSTRAINT "holds_from_wallet_id_wallets_id_fk" FOREIGN KEY ("from_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "holds" ADD CONSTRAINT "holds_to_wallet_id_wallets_id_fk" FOREIGN KEY ("to_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "holds_active_expires_at_idx" ON "holds" USING btree ("expires_at") WHERE "holds"."status" = 'active';--> statement-breakpoint
CREATE INDEX "holds_active_from_wallet_idx" ON "holds" USING btree ("from_wallet_id") WHERE "holds"."status" = 'active';--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_hold_id_operations_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "entries_wallet_id_created_at_idx" ON "entries" USING btree ("wallet_id","created_at","wallet_version");--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_destination_matches_type" CHECK (("operations"."type" = 'payout') = ("operations"."to_wallet_id" IS NULL));--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_hold_matches_type" CHECK (("operations"."type" IN ('capture', 'void')) = ("operations"."hold_id" IS NOT NULL));--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_expiry_matches_type" CHECK (("operations"."type" = 'hold') = ("operations"."expires_at" IS NOT NULL));--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_type_valid" CHECK ("operations"."type" IN ('top_up', 'transfer', 'payout', 'hold', 'capture', 'void'));--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_source_matches_type" CHECK (("operations"."type" = 'top_up') = ("operations"."from_wallet_id" IS NULL));--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_held_within_balance" CHECK ("wallets"."held_balance" >= 0 AND ("wallets"."kind" = 'client' OR "wallets"."held_balance" = 0) AND "wallets"."held_balance" <= greatest("wallets"."balance", 0));