import { sql } from "drizzle-orm";
import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";

export const customers = pgTable(
  "customers",
  {
    id: id(),
    /** Stored as given; matched case-insensitively through the unique index on lower(email). */
    email: text("email").notNull(),
    name: text("name"),
    stripeCustomerId: text("stripe_customer_id").unique(),
    createdAt: createdAt(),
    /** Set when the Stripe customer is deleted; licenses stay, and the Stripe id is kept (Stripe never reuses ids). */
    deletedAt: ts("deleted_at"),
    /**
     * When the linked Stripe customer was last read for the email and deletion above (customer events). Reads
     * happen outside the transaction, so two jobs can cross: one whose read started earlier never overwrites a later one.
     */
    stripeObservedAt: ts("stripe_observed_at"),
    /**
     * The storefront's user id (Key Commander template: the Supabase user id) this customer's licenses belong
     * to, set by claim-by-email or a Checkout Session's metadata.supabase_user_id. An email maps to one external
     * user; one external user may own several customers (bought with several addresses).
     */
    externalUserId: text("external_user_id"),
  },
  (t) => [
    uniqueIndex("customers_email_lower_unique").on(sql`lower(${t.email})`),
    // Admin search by email prefix (lower(email) LIKE 'abc%'): the unique index above uses the database's
    // collation, which serves LIKE only under "C"; text_pattern_ops serves it under any collation.
    index("customers_email_prefix_idx").on(sql`lower(${t.email}) text_pattern_ops`),
    index("customers_external_user_idx").on(t.externalUserId).where(sql`${t.externalUserId} is not null`),
  ],
);
