ALTER TABLE "licenses" ADD COLUMN "stripe_price_id" text;--> statement-breakpoint
ALTER TABLE "licenses" ADD COLUMN "auto_renews" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "licenses" ADD COLUMN "cancel_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "licenses" ADD COLUMN "trial_ends_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "licenses_expires_idx" ON "licenses" USING btree ("expires_at") WHERE "licenses"."expires_at" is not null;