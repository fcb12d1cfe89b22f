CREATE TABLE "reset_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"license_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text
);
--> statement-breakpoint
CREATE TABLE "website_errors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"product_id" text NOT NULL,
	"client_version" text,
	"user_identifier" text,
	"error_summary" text NOT NULL,
	"error_details" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "external_user_id" text;--> statement-breakpoint
ALTER TABLE "reset_requests" ADD CONSTRAINT "reset_requests_license_id_licenses_id_fk" FOREIGN KEY ("license_id") REFERENCES "public"."licenses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reset_requests" ADD CONSTRAINT "reset_requests_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "reset_requests_open_unique" ON "reset_requests" USING btree ("license_id") WHERE "reset_requests"."status" = 'open';--> statement-breakpoint
CREATE INDEX "reset_requests_status_created_idx" ON "reset_requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "website_errors_created_idx" ON "website_errors" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "customers_external_user_idx" ON "customers" USING btree ("external_user_id") WHERE "customers"."external_user_id" is not null;