ALTER TABLE "plans" ADD COLUMN "air_gapped_ttl_days" integer;--> statement-breakpoint
ALTER TABLE "activations" ADD COLUMN "air_gapped" boolean DEFAULT false NOT NULL;