CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE TABLE "inventory"."items" (
	"sku" text COLLATE "C" PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"price_cents" bigint NOT NULL,
	"available" bigint DEFAULT 0 NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"sold" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "items_counts_non_negative" CHECK ("inventory"."items"."available" >= 0 and "inventory"."items"."reserved" >= 0 and "inventory"."items"."sold" >= 0),
	CONSTRAINT "items_price_non_negative" CHECK ("inventory"."items"."price_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservation_lines" (
	"order_id" uuid NOT NULL,
	"sku" text NOT NULL,
	"qty" integer NOT NULL,
	CONSTRAINT "reservation_lines_order_id_sku_pk" PRIMARY KEY("order_id","sku")
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservations" (
	"order_id" uuid PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
