import { index, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { customers } from "./customers";
import { licenses } from "./licenses";

export const PORTAL_CONFIRMATION_PURPOSES = ["rotate-key", "add-email"] as const;
export type PortalConfirmationPurpose = (typeof PORTAL_CONFIRMATION_PURPOSES)[number];

/**
 * A change a signed-in customer asked for in the portal that waits for a click on an emailed link: replacing a
 * compromised key (the link goes to the license's own address), or adding another address (the link goes to
 * that address, which proves it). Only the token's hash is kept; a link works once, until it expires.
 */
export const portalConfirmations = pgTable(
  "portal_confirmations",
  {
    id: id(),
    purpose: text("purpose").$type<PortalConfirmationPurpose>().notNull(),
    /** sha256 of the token in the link (hex). */
    tokenHash: text("token_hash").notNull().unique(),
    /** Who asked (the signed-in customer). */
    customerId: uuid("customer_id")
      .notNull()
      .references(() => customers.id),
    /** rotate-key: the license whose key is replaced. */
    licenseId: uuid("license_id").references(() => licenses.id),
    /** add-email: the address being proven (as typed; matched case-insensitively). */
    email: text("email"),
    createdAt: createdAt(),
    expiresAt: ts("expires_at").notNull(),
    usedAt: ts("used_at"),
  },
  (t) => [index("portal_confirmations_customer_idx").on(t.customerId, t.createdAt)],
);

/**
 * Addresses a customer has proven besides their own: signed in as `customerId`, the portal also shows the
 * licenses of `linkedCustomerId`. One way only: the other address, signed in on its own, sees its own.
 */
export const customerLinks = pgTable(
  "customer_links",
  {
    customerId: uuid("customer_id")
      .notNull()
      .references(() => customers.id),
    linkedCustomerId: uuid("linked_customer_id")
      .notNull()
      .references(() => customers.id),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.linkedCustomerId] }),
    index("customer_links_linked_idx").on(t.linkedCustomerId),
  ],
);
