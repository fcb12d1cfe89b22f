import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { licenses } from "./licenses";

export const PAYMENT_KINDS = ["purchase", "subscription_invoice"] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

/**
 * One row per Stripe payment that creates or extends licenses: a one-time checkout ("purchase", keyed by its
 * checkout session) or a subscription invoice (keyed by its invoice). Written from the object as the Stripe API
 * shows it (never from an event's payload), so it can be written again in any order. Refunds and disputes are
 * matched to it through the payment intent (stripe_charges); the license's state is derived from these rows
 * (server/domain/billing/license-state/derive.ts).
 */
export const payments = pgTable(
  "payments",
  {
    id: id(),
    kind: text("kind").$type<PaymentKind>().notNull(),
    stripeCheckoutSessionId: text("stripe_checkout_session_id"),
    stripeInvoiceId: text("stripe_invoice_id"),
    stripeSubscriptionId: text("stripe_subscription_id"),
    stripePaymentIntentId: text("stripe_payment_intent_id"),
    /** Filled when a charge of the payment intent is seen (a refund or dispute names it). */
    stripeChargeId: text("stripe_charge_id"),
    /**
     * The license it created or extended; null until that license exists (an invoice can be seen before its
     * checkout), or when it pays for several (a checkout with several line items: see the session id).
     */
    licenseId: uuid("license_id").references(() => licenses.id, { onDelete: "set null" }),
    /** Invoice: Stripe's status (draft, open, paid, uncollectible, void). Purchase: "paid". */
    status: text("status").notNull(),
    /** subscription_create, subscription_cycle, subscription_update, manual... (invoices only). */
    billingReason: text("billing_reason"),
    /** Minor units (cents), as paid. */
    amount: integer("amount").notNull(),
    /** Minor units refunded so far (from the charge). A full refund of a renewal walks the expiry back. */
    amountRefunded: integer("amount_refunded").notNull().default(0),
    currency: text("currency"),
    /** The subscription period this invoice pays for (its subscription line, not the invoice's own period). */
    periodStart: ts("period_start"),
    periodEnd: ts("period_end"),
    /** Where the customer pays an open invoice; linked from the payment-failed email. */
    hostedInvoiceUrl: text("hosted_invoice_url"),
    /** What applying it changed on its license: the expiry before and after (an audit aid; refunds use the period). */
    expiresAtBefore: ts("expires_at_before"),
    expiresAtAfter: ts("expires_at_after"),
    /** Wall-clock time the Stripe object was read; an older read never overwrites a newer one. */
    observedAt: timestamp("observed_at", { withTimezone: true, mode: "date", precision: 6 }).notNull(),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("payments_invoice_unique").on(t.stripeInvoiceId),
    uniqueIndex("payments_checkout_session_unique").on(t.stripeCheckoutSessionId),
    index("payments_subscription_idx").on(t.stripeSubscriptionId),
    index("payments_payment_intent_idx").on(t.stripePaymentIntentId),
    index("payments_charge_idx").on(t.stripeChargeId),
    index("payments_license_idx").on(t.licenseId),
  ],
);
