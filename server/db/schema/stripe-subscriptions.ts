import { boolean, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt, ts } from "./_columns";

/** A subscription item as a license follows it. Dates are ISO-8601. */
export type SubscriptionItemFacts = {
  id: string;
  priceId: string | null;
  quantity: number;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
};

/**
 * The last state of each Stripe subscription we have read from the API (never from an event's payload). The
 * licenses that follow a subscription are derived from this row plus its invoices (payments) and their charges.
 */
export const stripeSubscriptions = pgTable("stripe_subscriptions", {
  /** Stripe's sub_ id. */
  id: text("id").primaryKey(),
  stripeCustomerId: text("stripe_customer_id"),
  /** Stripe's status: trialing, active, past_due, unpaid, paused, canceled, incomplete, incomplete_expired. */
  status: text("status").notNull(),
  /** items.data[] (id, price, quantity, current period: in this API version periods live on the items). */
  items: jsonb("items").$type<SubscriptionItemFacts[]>().notNull(),
  cancelAt: ts("cancel_at"),
  cancelAtPeriodEnd: boolean("cancel_at_period_end").notNull().default(false),
  endedAt: ts("ended_at"),
  trialEnd: ts("trial_end"),
  latestInvoiceId: text("latest_invoice_id"),
  /** Wall-clock time the object was read; an older read never overwrites a newer one. */
  observedAt: timestamp("observed_at", { withTimezone: true, mode: "date", precision: 6 }).notNull(),
  createdAt: createdAt(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});
