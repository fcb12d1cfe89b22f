import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";

export const products = pgTable("products", {
  id: id(),
  /** Stable public identifier, used by client software in `product` and in offline tokens. */
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Identifiers other systems know this product by (a storefront template's product ids, Stripe product ids). */
  externalIds: text("external_ids").array().notNull().default([]),
  createdAt: createdAt(),
  /** Retired products keep their licenses working but take no new plans. */
  archivedAt: ts("archived_at"),
});
