CREATE TABLE "clients" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"api_key_hash" text NOT NULL,
	"api_key_prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"operation_id" uuid NOT NULL,
	"wallet_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"wallet_version" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "operations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" uuid NOT NULL,
	"type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"amount" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"from_wallet_id" uuid,
	"to_wallet_id" uuid NOT NULL,
	"failure_code" text,
	"failure_message" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"partition" integer NOT NULL,
	"seq" bigserial NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "operations_client_idempotency_key" UNIQUE("client_id","idempotency_key"),
	CONSTRAINT "operations_amount_positive" CHECK ("operations"."amount" > 0 AND "operations"."amount" <= 9007199254740991),
	CONSTRAINT "operations_type_valid" CHECK ("operations"."type" IN ('top_up', 'transfer')),
	CONSTRAINT "operations_status_valid" CHECK ("operations"."status" IN ('pending', 'succeeded', 'failed')),
	CONSTRAINT "operations_source_matches_type" CHECK (("operations"."type" = 'transfer') = ("operations"."from_wallet_id" IS NOT NULL)),
	CONSTRAINT "operations_failure_iff_failed" CHECK (("operations"."status" = 'failed') = ("operations"."failure_code" IS NOT NULL)),
	CONSTRAINT "operations_completed_iff_final" CHECK (("operations"."status" = 'pending') = ("operations"."completed_at" IS NULL))
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"client_id" uuid,
	"currency" char(3) NOT NULL,
	"balance" bigint DEFAULT 0 NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"partition" integer NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallets_client_balance_bounds" CHECK ("wallets"."kind" <> 'client' OR ("wallets"."balance" >= 0 AND "wallets"."balance" <= 9007199254740991)),
	CONSTRAINT "wallets_kind_valid" CHECK ("wallets"."kind" IN ('client', 'funding')),
	CONSTRAINT "wallets_currency_format" CHECK ("wallets"."currency" ~ '^[A-Z]{3}$'),
	CONSTRAINT "wallets_owner_matches_kind" CHECK (("wallets"."kind" = 'client') = ("wallets"."client_id" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "entries" ADD CONSTRAINT "entries_operation_id_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."operations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "entries" ADD CONSTRAINT "entries_wallet_id_wallets_id_fk" FOREIGN KEY ("wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_from_wallet_id_wallets_id_fk" FOREIGN KEY ("from_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "operations" ADD CONSTRAINT "operations_to_wallet_id_wallets_id_fk" FOREIGN KEY ("to_wallet_id") REFERENCES "public"."wallets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_client_id_clients_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."clients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "clients_api_key_hash_key" ON "clients" USING btree ("api_key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "entries_wallet_id_wallet_version_key" ON "entries" USING btree ("wallet_id","wallet_version");--> statement-breakpoint
CREATE INDEX "entries_operation_id_idx" ON "entries" USING btree ("operation_id");--> statement-breakpoint
CREATE INDEX "operations_pending_partition_seq_idx" ON "operations" USING btree ("partition","seq") WHERE "operations"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "operations_client_id_id_idx" ON "operations" USING btree ("client_id","id");--> statement-breakpoint
CREATE INDEX "operations_from_wallet_id_idx" ON "operations" USING btree ("from_wallet_id","id");--> statement-breakpoint
CREATE INDEX "operations_to_wallet_id_idx" ON "operations" USING btree ("to_wallet_id","id");--> statement-breakpoint
CREATE INDEX "wallets_client_id_id_idx" ON "wallets" USING btree ("client_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_funding_currency_partition_key" ON "wallets" USING btree ("currency","partition") WHERE "wallets"."kind" = 'funding';