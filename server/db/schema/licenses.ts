import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { customers } from "./customers";
import { plans } from "./plans";

export const LICENSE_STATUSES = ["active", "past_due", "suspended", "revoked", "expired"] as const;
export type LicenseStatus = (typeof LICENSE_STATUSES)[number];

export const licenses = pgTable(
  "licenses",
  {
    id: id(),
    /** sha256 of the normalized key (hex). The only way to find a license by key. */
    keyHash: text("key_hash").notNull().unique(),
    /** Last five characters, shown as "…-ABCDE" so people can tell keys apart. */
    keyHint: text("key_hint").notNull(),
    /**
     * The key encrypted with a key derived from AUTH_SECRET (AES-256-GCM), so the customer's portal and the
     * license email can show it again. A database dump without AUTH_SECRET reveals nothing usable.
     */
    keyCiphertext: text("key_ciphertext").notNull(),
    customerId: uuid("customer_id")
      .notNull()
      .references(() => customers.id),
    planId: uuid("plan_id")
      .notNull()
      .references(() => plans.id),
    status: text("status").$type<LicenseStatus>().notNull().default("active"),
    /** Why it is suspended or revoked, in words the customer may read. */
    statusReason: text("status_reason"),
    /** Activations allowed. */
    maxActivations: integer("max_activations").notNull(),
    /** Null: perpetual. Validation also allows the plan's grace days past this. */
    expiresAt: ts("expires_at"),
    /** Where it came from: "stripe" (checkout), "manual" (admin/API), "import". */
    source: text("source").notNull(),
    stripeCheckoutSessionId: text("stripe_checkout_session_id"),
    /** The checkout line item that issued it: one license per line item, never two. */
    stripeLineItemId: text("stripe_line_item_id"),
    stripeSubscriptionId: text("stripe_subscription_id"),
    stripePaymentIntentId: text("stripe_payment_intent_id"),
    /** The Stripe price the license currently follows (a plan change on the subscription moves it). */
    stripePriceId: text("stripe_price_id"),
    /** True while a subscription will renew it by itself; expiry reminders go only to licenses that won't. */
    autoRenews: boolean("auto_renews").notNull().default(false),
    /** A scheduled cancellation: the license works until then and does not renew. */
    cancelAt: ts("cancel_at"),
    /** Set for a trial license: it ends then unless payment follows. */
    trialEndsAt: ts("trial_ends_at"),
    /** The last time all its devices were reset (self-service or by the operator): the reset cooldown counts from it. */
    lastResetAt: ts("last_reset_at"),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    unique("licenses_stripe_line_item_unique").on(t.stripeCheckoutSessionId, t.stripeLineItemId),
    index("licenses_customer_idx").on(t.customerId, t.id),
    index("licenses_subscription_idx").on(t.stripeSubscriptionId).where(sql`${t.stripeSubscriptionId} is not null`),
    index("licenses_payment_intent_idx")
      .on(t.stripePaymentIntentId)
      .where(sql`${t.stripePaymentIntentId} is not null`),
    index("licenses_status_idx").on(t.status, t.id),
    // The sweeps look for live licenses by expiry. Only those: expired, revoked and suspended licenses pile up
    // over the years with past expiries, and every minute's expiry sweep would walk them all again.
    index("licenses_live_expires_idx")
      .on(t.expiresAt)
      .where(sql`${t.expiresAt} is not null and ${t.status} in ('active', 'past_due')`),
    // The admin listing pages newest first by (created_at, id): keyset pagination without a sort.
    // (A plain ascending index: scanned backwards it serves ORDER BY created_at DESC, id DESC.)
    index("licenses_created_idx").on(t.createdAt, t.id),
    // Admin search by the displayed hint ("…-ABCDE"): about one license in 33 million shares a hint.
    index("licenses_key_hint_idx").on(t.keyHint),
    // The admin listing filtered by plan (a product is one branch per plan) or by status, newest first.
    index("licenses_plan_created_idx").on(t.planId, t.createdAt, t.id),
    index("licenses_status_created_idx").on(t.status, t.createdAt, t.id),
  ],
);
