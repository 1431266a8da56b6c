ALTER TABLE "order"."sagas" ADD COLUMN "undo_from" integer;--> statement-breakpoint
ALTER TABLE "order"."sagas" ADD COLUMN "trace" jsonb DEFAULT '{}'::jsonb NOT NULL;