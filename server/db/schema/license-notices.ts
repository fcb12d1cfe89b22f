import { pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, ts } from "./_columns";
import { emailOutbox } from "./email-outbox";
import { licenses } from "./licenses";

/**
 * "expiring:<days>" (the reminder N days before expiry), "trial-ending". The days are part of the kind so each
 * configured reminder is owed once per expiry date.
 */
export type LicenseNoticeKind = `expiring:${number}` | "trial-ending";

/**
 * Notices the sweeps have sent about a license, one row per (license, kind, date it is about). The primary key
 * is what makes a reminder at-most-once: the row is inserted in the same transaction as the email it
 * causes, so two sweeps racing (or one running twice) cannot both owe it. A new expiry date (an extension, a
 * renewal) is a new date, so it gets its own reminders.
 */
export const licenseNotices = pgTable(
  "license_notices",
  {
    licenseId: uuid("license_id")
      .notNull()
      .references(() => licenses.id, { onDelete: "cascade" }),
    kind: text("kind").$type<LicenseNoticeKind>().notNull(),
    /** The expiry (or trial end) the notice is about. */
    forDate: ts("for_date").notNull(),
    outboxId: uuid("outbox_id").references(() => emailOutbox.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ name: "license_notices_pk", columns: [t.licenseId, t.kind, t.forDate] })],
);
