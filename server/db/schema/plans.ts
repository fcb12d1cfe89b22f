import { integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { products } from "./products";

export const plans = pgTable("plans", {
  id: id(),
  productId: uuid("product_id")
    .notNull()
    .references(() => products.id),
  /** Unique across products: the management API and Stripe mapping name a plan by its slug alone. */
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Activations allowed per unit bought; a Stripe line item gets seats x quantity. */
  seats: integer("seats").notNull(),
  /** Null: perpetual, or (for a Stripe subscription price) the subscription period decides. */
  durationDays: integer("duration_days"),
  /** Days a license keeps working after its expiry (or a failed renewal). */
  graceDays: integer("grace_days").notNull().default(0),
  entitlements: text("entitlements").array().notNull().default([]),
  /** Offline token lifetime in seconds for this plan; null: OFFLINE_TOKEN_TTL. */
  offlineTokenTtlSeconds: integer("offline_token_ttl_seconds"),
  /** Floating seats: activations not seen for this many seconds are freed. Null: they never lapse. */
  heartbeatWindowSeconds: integer("heartbeat_window_seconds"),
  /**
   * Activation files (machines that never go online): their token lives this many days, capped at the
   * license's expiry. Null: the plan offers no activation files.
   */
  airGappedTtlDays: integer("air_gapped_ttl_days"),
  /** A card-free trial of this many days ("Start free trial" on the pricing page). Null: the plan offers none. */
  trialDays: integer("trial_days"),
  /** Self-service "reset all devices": at most once per this many days per license. */
  resetCooldownDays: integer("reset_cooldown_days").notNull().default(30),
  /** Identifiers other systems know this plan by (a storefront template's tier ids, Stripe product ids). */
  externalIds: text("external_ids").array().notNull().default([]),
  createdAt: createdAt(),
  archivedAt: ts("archived_at"),
});

/** Each Stripe price issues licenses of exactly one plan. */
export const planPrices = pgTable(
  "plan_prices",
  {
    stripePriceId: text("stripe_price_id").notNull(),
    planId: uuid("plan_id")
      .notNull()
      .references(() => plans.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.stripePriceId] })],
);
