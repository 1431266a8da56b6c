CREATE SCHEMA "order";
--> statement-breakpoint
CREATE TABLE "order"."orders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"items" jsonb NOT NULL,
	"total_cents" bigint NOT NULL,
	"idempotency_key" text,
	"request_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "order"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"payload" jsonb NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"dead_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "order"."sagas" (
	"id" uuid PRIMARY KEY NOT NULL,
	"saga" text NOT NULL,
	"state" jsonb NOT NULL,
	"phase" text NOT NULL,
	"step" integer NOT NULL,
	"reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"deadline_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "orders_user_idx" ON "order"."orders" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "orders_pending_idx" ON "order"."orders" USING btree ("user_id") WHERE "order"."orders"."status" = 'PENDING';--> statement-breakpoint
CREATE UNIQUE INDEX "orders_idempotency_idx" ON "order"."orders" USING btree ("user_id","idempotency_key") WHERE "order"."orders"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "order"."outbox" USING btree ("next_attempt_at") WHERE "order"."outbox"."published_at" is null and "order"."outbox"."dead_at" is null;--> statement-breakpoint
CREATE INDEX "sagas_open_idx" ON "order"."sagas" USING btree ("lease_until") WHERE "order"."sagas"."phase" <> 'done';