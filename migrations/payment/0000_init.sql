CREATE SCHEMA "payment";
--> statement-breakpoint
CREATE TABLE "payment"."accounts" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"balance_cents" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_balance_non_negative" CHECK ("payment"."accounts"."balance_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "payment"."inbox" (
	"event_id" uuid NOT NULL,
	"handler" text NOT NULL,
	"handled_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_event_id_handler_pk" PRIMARY KEY("event_id","handler")
);
--> statement-breakpoint
CREATE TABLE "payment"."ledger" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"amount_cents" bigint NOT NULL,
	"balance_after_cents" bigint NOT NULL,
	"order_id" uuid,
	"idempotency_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment"."order_payments" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid,
	"amount_cents" bigint DEFAULT 0 NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ledger_user_idx" ON "payment"."ledger" USING btree ("user_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_idempotency_idx" ON "payment"."ledger" USING btree ("user_id","idempotency_key") WHERE "payment"."ledger"."idempotency_key" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_order_kind_idx" ON "payment"."ledger" USING btree ("order_id","kind") WHERE "payment"."ledger"."order_id" is not null;