import { boolean, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt, ts } from "./_columns";

/**
 * Refund and dispute facts per Stripe charge, as last read from the API. Kept even when no license (or payment)
 * for the charge exists yet: a refund or dispute seen before its purchase is applied when the purchase lands,
 * through the payment intent both name.
 */
export const stripeCharges = pgTable(
  "stripe_charges",
  {
    /** Stripe's ch_ (or py_) id. */
    id: text("id").primaryKey(),
    stripePaymentIntentId: text("stripe_payment_intent_id"),
    /** Minor units; null when only a dispute has named the charge so far. */
    amount: integer("amount"),
    amountRefunded: integer("amount_refunded").notNull().default(0),
    /** Stripe's own "fully refunded" flag. */
    refunded: boolean("refunded").notNull().default(false),
    currency: text("currency"),
    /** When the charge itself was last read; null when only its dispute has been. */
    observedAt: timestamp("observed_at", { withTimezone: true, mode: "date", precision: 6 }),
    /** A charge is disputed at most once. */
    disputeId: text("dispute_id"),
    /** Stripe's dispute status: warning_needs_response, needs_response, under_review, won, lost, ... */
    disputeStatus: text("dispute_status"),
    disputeObservedAt: timestamp("dispute_observed_at", { withTimezone: true, mode: "date", precision: 6 }),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [index("stripe_charges_payment_intent_idx").on(t.stripePaymentIntentId)],
);
