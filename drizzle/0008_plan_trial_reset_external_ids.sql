ALTER TABLE "products" ADD COLUMN "external_ids" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "trial_days" integer;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "reset_cooldown_days" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "external_ids" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "licenses" ADD COLUMN "last_reset_at" timestamp with time zone;