import { integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { ts } from "./_columns";
import { licenses } from "./licenses";

/**
 * What Stripe's facts last said a license should be (status, expiry, plan...), per license sold through Stripe.
 * A sync applies only what changed since, so an admin's own change (a suspension, an extension) stands until
 * Stripe's side changes again. Shape: DerivedLicenseState in server/domain/billing/license-state/derive.ts.
 */
export const stripeLicenseStates = pgTable("stripe_license_states", {
  licenseId: uuid("license_id")
    .primaryKey()
    .references(() => licenses.id, { onDelete: "cascade" }),
  /** The subscription item the license follows (null for one-time purchases). */
  stripeSubscriptionItemId: text("stripe_subscription_item_id"),
  derived: jsonb("derived").$type<Record<string, unknown>>().notNull(),
  /** Bumped on every applied change; part of the dedupe key of emails a change may repeat (plan changes). */
  version: integer("version").notNull().default(1),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});
