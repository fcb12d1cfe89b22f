import { sql } from "drizzle-orm";
import { index, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { licenses } from "./licenses";
import { plans } from "./plans";
import { products } from "./products";

/**
 * A card-free trial asked for on the pricing page, waiting for its email address to be confirmed. The emailed
 * link carries a random token; only its sha256 is stored, so a database dump holds no usable link.
 */
export const trialRequests = pgTable(
  "trial_requests",
  {
    id: id(),
    /** sha256 (hex) of the link's token. */
    tokenHash: text("token_hash").notNull().unique(),
    /** As typed (trimmed); compared lower-cased. */
    email: text("email").notNull(),
    planId: uuid("plan_id")
      .notNull()
      .references(() => plans.id, { onDelete: "cascade" }),
    expiresAt: ts("expires_at").notNull(),
    /** When the link was confirmed; a confirmed link shows the same license again and issues nothing new. */
    usedAt: ts("used_at"),
    licenseId: uuid("license_id").references(() => licenses.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [index("trial_requests_email_idx").on(sql`lower(${t.email})`, t.createdAt)],
);

/** One card-free trial per email address per product: the primary key is the rule, also under races. */
export const trialClaims = pgTable(
  "trial_claims",
  {
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "cascade" }),
    /** lower(trim(email)). */
    email: text("email").notNull(),
    licenseId: uuid("license_id").references(() => licenses.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.email] })],
);

/**
 * The machines that have run a trial of a product: a second trial license activated on one of them gets
 * TRIAL_USED. Written by the activation of a trial license only (paid licenses never touch this table).
 */
export const trialFingerprints = pgTable(
  "trial_fingerprints",
  {
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "cascade" }),
    fingerprint: text("fingerprint").notNull(),
    licenseId: uuid("license_id")
      .notNull()
      .references(() => licenses.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.fingerprint] })],
);
