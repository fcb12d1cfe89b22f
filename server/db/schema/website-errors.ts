import { index, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id } from "./_columns";

/**
 * Errors a storefront reported (POST /api/v1/report-website-error, the Key Commander template's call), kept for
 * the admin app's "Website errors" page. Every text is bounded when stored.
 */
export const websiteErrors = pgTable(
  "website_errors",
  {
    id: id(),
    /** What the reporter calls itself ("Website", or a product id). */
    productId: text("product_id").notNull(),
    clientVersion: text("client_version"),
    /** Who saw it, as the storefront names them ("<user id> (<email>)" or "anonymous"). */
    userIdentifier: text("user_identifier"),
    errorSummary: text("error_summary").notNull(),
    errorDetails: text("error_details"),
    createdAt: createdAt(),
  },
  (t) => [index("website_errors_created_idx").on(t.createdAt, t.id)],
);
