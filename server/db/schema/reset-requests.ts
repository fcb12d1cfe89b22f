import { sql } from "drizzle-orm";
import { index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { customers } from "./customers";
import { licenses } from "./licenses";

export const RESET_REQUEST_STATUSES = ["open", "approved", "dismissed"] as const;
export type ResetRequestStatus = (typeof RESET_REQUEST_STATUSES)[number];

/**
 * A customer inside the reset cooldown asked the operator to reset all devices of a license by hand. The
 * operator approves (the reset runs, bypassing the cooldown, and the customer is emailed) or dismisses it.
 */
export const resetRequests = pgTable(
  "reset_requests",
  {
    id: id(),
    licenseId: uuid("license_id")
      .notNull()
      .references(() => licenses.id),
    customerId: uuid("customer_id")
      .notNull()
      .references(() => customers.id),
    status: text("status").$type<ResetRequestStatus>().notNull().default("open"),
    /** The customer's own words (optional, bounded); shown to the operator. */
    message: text("message"),
    createdAt: createdAt(),
    decidedAt: ts("decided_at"),
    /** The admin's email who approved or dismissed it. */
    decidedBy: text("decided_by"),
  },
  (t) => [
    // One open request per license: asking twice while one waits changes nothing (and emails no one twice).
    uniqueIndex("reset_requests_open_unique").on(t.licenseId).where(sql`${t.status} = 'open'`),
    index("reset_requests_status_created_idx").on(t.status, t.createdAt),
  ],
);
