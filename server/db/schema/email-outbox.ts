import { index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { customers } from "./customers";

/**
 * pending: its send job is queued (or its next retry scheduled); sent; failed: given up (the admin can retry);
 * waiting: held in production because no email provider is configured, no attempt spent, released to pending
 * (and queued) by the first start with a provider (server/domain/mail/waiting.ts).
 */
export const EMAIL_STATUSES = ["pending", "sent", "failed", "waiting"] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/**
 * One row per email we owe someone. Rows are written in the same transaction as the change that causes them;
 * the send job renders and delivers. Props hold ids, never license keys: keys are decrypted at send time.
 */
export const emailOutbox = pgTable(
  "email_outbox",
  {
    id: id(),
    /** Collapses duplicates: the same logical email (e.g. "license-issued:<checkout session>") is owed once. */
    dedupeKey: text("dedupe_key").notNull().unique(),
    template: text("template").notNull(),
    props: jsonb("props").$type<Record<string, unknown>>().notNull(),
    to: text("to").notNull(),
    customerId: uuid("customer_id").references(() => customers.id),
    subject: text("subject"),
    status: text("status").$type<EmailStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    provider: text("provider"),
    providerMessageId: text("provider_message_id"),
    nextAttemptAt: ts("next_attempt_at"),
    createdAt: createdAt(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    index("email_outbox_status_idx").on(t.status, t.createdAt),
    index("email_outbox_customer_idx").on(t.customerId),
    // The admin outbox pages newest first by (created_at, id).
    index("email_outbox_created_idx").on(t.createdAt, t.id),
  ],
);

/**
 * Emails "delivered" when no provider is configured outside production: shown in the app at /dev/mailbox and
 * printed to the log. Never written in production (the email waits in the outbox instead).
 */
export const devMailbox = pgTable("dev_mailbox", {
  id: id(),
  outboxId: uuid("outbox_id").references(() => emailOutbox.id, { onDelete: "set null" }),
  from: text("from").notNull(),
  to: text("to").notNull(),
  subject: text("subject").notNull(),
  html: text("html").notNull(),
  text: text("text").notNull(),
  createdAt: createdAt(),
});
