import { DevicesResetEmail, devicesResetSubject } from "@/emails/devices-reset";
import { ResetRequestedEmail, resetRequestedSubject } from "@/emails/reset-requested";
import { render } from "@react-email/render";
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { createElement, type ReactElement } from "react";
import { z } from "zod";
import { TemplatePropsSchemas, type TemplateName } from "@/emails";
import { CancellationScheduledEmail, cancellationScheduledSubject } from "@/emails/cancellation-scheduled";
import { LicenseExpiredEmail, licenseExpiredSubject } from "@/emails/license-expired";
import { LicenseExpiringEmail, licenseExpiringSubject } from "@/emails/license-expiring";
import { LicenseIssuedEmail, licenseIssuedSubject } from "@/emails/license-issued";
import { LicenseKeyRotatedEmail, licenseKeyRotatedSubject } from "@/emails/license-key-rotated";
import { LicenseStatusChangedEmail, licenseStatusChangedSubject } from "@/emails/license-status-changed";
import { PaymentFailedEmail, paymentFailedSubject } from "@/emails/payment-failed";
import { PlanChangedEmail, planChangedSubject } from "@/emails/plan-changed";
import { RenewalReceiptEmail, renewalReceiptSubject } from "@/emails/renewal-receipt";
import { WebhookDisabledEmail, webhookDisabledSubject } from "@/emails/webhook-disabled";
import { SignInLinkEmail, signInLinkSubject } from "@/emails/sign-in-link";
import { PortalConfirmEmail, portalConfirmSubject } from "@/emails/portal-confirm";
import { TrialLinkEmail, trialLinkSubject } from "@/emails/trial-link";
import { TrialEndingEmail, trialEndingSubject } from "@/emails/trial-ending";
import { EMAIL_STATUSES, emailOutbox, type EmailStatus } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { AppError } from "@/server/domain/errors";
import { enqueue } from "@/server/jobs/enqueue";
import { beforeTimestampCursor, CursorInput, isUuid, LimitInput, page, timestampText } from "./cursor";
import { likePrefix } from "./search";
import { storableText } from "./text";

/** The email outbox as the admin sees it: what we owe whom, how delivery went, and a retry for the failures. */

export const ListEmailsInput = z.object({
  status: z.enum(EMAIL_STATUSES).optional(),
  template: storableText(1, 100).optional(),
  /** The start of the recipient's address. */
  to: storableText(1, 320).optional(),
  customerId: z.uuid().optional(),
  cursor: CursorInput.optional(),
  limit: LimitInput(100, 25),
});
export type ListEmailsInput = z.input<typeof ListEmailsInput>;

export type OutboxRow = {
  id: string;
  template: string;
  to: string;
  customerId: string | null;
  subject: string | null;
  status: EmailStatus;
  attempts: number;
  lastError: string | null;
  provider: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  sentAt: string | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toRow(r: typeof emailOutbox.$inferSelect): OutboxRow {
  return {
    id: r.id,
    template: r.template,
    to: r.to,
    customerId: r.customerId,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    provider: r.provider,
    nextAttemptAt: iso(r.nextAttemptAt),
    createdAt: r.createdAt.toISOString(),
    sentAt: iso(r.sentAt),
  };
}

/** Newest first; keyset over (created_at, id), served by email_outbox_created_idx (or the status index). */
export async function listEmails(tx: DbOrTx, rawInput: ListEmailsInput) {
  const input = ListEmailsInput.parse(rawInput);
  const where: SQL[] = [];
  if (input.status) where.push(eq(emailOutbox.status, input.status));
  if (input.template) where.push(eq(emailOutbox.template, input.template));
  if (input.to) where.push(sql`lower(${emailOutbox.to}) like ${likePrefix(input.to)}`);
  if (input.customerId) where.push(eq(emailOutbox.customerId, input.customerId));
  if (input.cursor) where.push(beforeTimestampCursor(emailOutbox.createdAt, emailOutbox.id, input.cursor));
  const rows = await tx
    .select({ row: emailOutbox, at: timestampText(emailOutbox.createdAt) })
    .from(emailOutbox)
    .where(and(...where))
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(input.limit + 1);
  const { data, nextCursor } = page(rows, input.limit, (r) => [r.at, r.row.id]);
  return { data: data.map((r) => toRow(r.row)), nextCursor };
}

/** One outbox row with its props (ids and facts only: the outbox never holds a key). */
export async function getEmail(tx: DbOrTx, id: string) {
  const [row] = isUuid(id) ? await tx.select().from(emailOutbox).where(eq(emailOutbox.id, id)) : [];
  if (!row) throw new AppError("NOT_FOUND", "There is no email with that id.");
  return { ...toRow(row), dedupeKey: row.dedupeKey, props: row.props, providerMessageId: row.providerMessageId };
}

/**
 * Tries an email again now: back to pending with a fresh attempt count, and its send job queued, in one
 * transaction. A pending email waiting for its next backoff attempt is sent now instead (the job key replaces
 * the waiting job). A sent email is never sent twice this way: resend the license email from its license.
 */
export async function retryEmail(tx: Tx, actor: Actor, id: string): Promise<OutboxRow> {
  const [before] = isUuid(id) ? await tx.select().from(emailOutbox).where(eq(emailOutbox.id, id)).for("update") : [];
  if (!before) throw new AppError("NOT_FOUND", "There is no email with that id.");
  if (before.status === "sent") throw new AppError("INVALID_STATE", "This email was already sent; it is not sent twice.");
  const [after] = await tx
    .update(emailOutbox)
    .set({ status: "pending", attempts: 0, lastError: null, nextAttemptAt: null })
    .where(eq(emailOutbox.id, id))
    .returning();
  await enqueue(tx, "send_email", { outboxId: id }, { jobKey: `email:${id}` });
  await recordAudit(tx, actor, {
    action: "email.retried",
    subjectType: "email",
    subjectId: id,
    before: { status: before.status, attempts: before.attempts, lastError: before.lastError },
    after: { status: after!.status },
  });
  return toRow(after!);
}

/**
 * Every template rendered with its own PreviewProps (the same component the sender renders, with sample
 * data). `satisfies Record<TemplateName, …>` makes a template without a preview a type error.
 */
const PREVIEWS = {
  "license-issued": {
    element: () => createElement(LicenseIssuedEmail, LicenseIssuedEmail.PreviewProps),
    subject: () => licenseIssuedSubject(LicenseIssuedEmail.PreviewProps.licenses),
  },
  "license-key-rotated": {
    element: () => createElement(LicenseKeyRotatedEmail, LicenseKeyRotatedEmail.PreviewProps),
    subject: () => licenseKeyRotatedSubject(LicenseKeyRotatedEmail.PreviewProps.productName),
  },
  "renewal-receipt": {
    element: () => createElement(RenewalReceiptEmail, RenewalReceiptEmail.PreviewProps),
    subject: () => renewalReceiptSubject(RenewalReceiptEmail.PreviewProps),
  },
  "payment-failed": {
    element: () => createElement(PaymentFailedEmail, PaymentFailedEmail.PreviewProps),
    subject: () => paymentFailedSubject(PaymentFailedEmail.PreviewProps),
  },
  "cancellation-scheduled": {
    element: () => createElement(CancellationScheduledEmail, CancellationScheduledEmail.PreviewProps),
    subject: () => cancellationScheduledSubject(CancellationScheduledEmail.PreviewProps),
  },
  "license-expiring": {
    element: () => createElement(LicenseExpiringEmail, LicenseExpiringEmail.PreviewProps),
    subject: () => licenseExpiringSubject(LicenseExpiringEmail.PreviewProps),
  },
  "trial-ending": {
    element: () => createElement(TrialEndingEmail, TrialEndingEmail.PreviewProps),
    subject: () => trialEndingSubject(TrialEndingEmail.PreviewProps),
  },
  "license-expired": {
    element: () => createElement(LicenseExpiredEmail, LicenseExpiredEmail.PreviewProps),
    subject: () => licenseExpiredSubject(LicenseExpiredEmail.PreviewProps),
  },
  "license-status-changed": {
    element: () => createElement(LicenseStatusChangedEmail, LicenseStatusChangedEmail.PreviewProps),
    subject: () => licenseStatusChangedSubject(LicenseStatusChangedEmail.PreviewProps),
  },
  "plan-changed": {
    element: () => createElement(PlanChangedEmail, PlanChangedEmail.PreviewProps),
    subject: () => planChangedSubject(PlanChangedEmail.PreviewProps),
  },
  "webhook-disabled": {
    element: () => createElement(WebhookDisabledEmail, WebhookDisabledEmail.PreviewProps),
    subject: () => webhookDisabledSubject(WebhookDisabledEmail.PreviewProps),
  },
  "reset-requested": {
    element: () => createElement(ResetRequestedEmail, ResetRequestedEmail.PreviewProps),
    subject: () => resetRequestedSubject(ResetRequestedEmail.PreviewProps),
  },
  "devices-reset": {
    element: () => createElement(DevicesResetEmail, DevicesResetEmail.PreviewProps),
    subject: () => devicesResetSubject(DevicesResetEmail.PreviewProps),
  },
  "sign-in-link": {
    element: () => createElement(SignInLinkEmail, SignInLinkEmail.PreviewProps),
    subject: () => signInLinkSubject(SignInLinkEmail.PreviewProps.appUrl),
  },
  "portal-confirm": {
    element: () => createElement(PortalConfirmEmail, PortalConfirmEmail.PreviewProps),
    subject: () => portalConfirmSubject(PortalConfirmEmail.PreviewProps),
  },
  "trial-link": {
    element: () => createElement(TrialLinkEmail, TrialLinkEmail.PreviewProps),
    subject: () => trialLinkSubject(TrialLinkEmail.PreviewProps),
  },
} satisfies Record<TemplateName, { element: () => ReactElement; subject: () => string }>;

export const EMAIL_TEMPLATES = Object.keys(TemplatePropsSchemas) as TemplateName[];

export const PreviewEmailInput = z.object({ template: z.enum(Object.keys(TemplatePropsSchemas) as [TemplateName, ...TemplateName[]]) });

export async function previewEmailTemplate(template: TemplateName): Promise<{ template: TemplateName; subject: string; html: string; text: string }> {
  const preview = PREVIEWS[template];
  const element = preview.element();
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
  return { template, subject: preview.subject(), html, text };
}
