CREATE TABLE "releases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"product_id" uuid NOT NULL,
	"version" text NOT NULL,
	"channel" text NOT NULL,
	"platform" text,
	"entitlement" text,
	"notes" text,
	"file_name" text,
	"storage_path" text,
	"external_url" text,
	"sha256" text,
	"size" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"yanked_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "releases_product_version_platform_unique" ON "releases" USING btree ("product_id","version",coalesce("platform", ''));--> statement-breakpoint
CREATE INDEX "releases_product_idx" ON "releases" USING btree ("product_id","created_at");