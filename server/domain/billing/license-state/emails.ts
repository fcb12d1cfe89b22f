import { inArray } from "drizzle-orm";
import { emailOutbox } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import type { TemplateName, TemplateProps } from "@/emails";
import { lapsesAt } from "@/server/domain/licensing/expiry";
import type { LicenseRow } from "@/server/domain/licensing/issue";
import { queueEmail } from "@/server/domain/mail/queue";
import { emitLicenseEvent } from "@/server/domain/webhooks/emit";
import { licenseExpiredDedupeKey } from "@/server/domain/sweeps/expire";
import { isFullyRefunded, type BillingFacts, type DerivedLicenseState } from "./derive";

// The emails a sync owes. See README "Emails when Stripe events arrive late or out of order". Two kinds:
//  - state emails describe where the license is now and are keyed by the Stripe objects that put it there, so
//    they go out once whichever event (or how many) reveals that state: payment failed (per open invoice),
//    renewal receipt (per renewal invoice that currently sets the expiry), cancellation scheduled (per date),
//    suspended (per dispute or pause), expired because the subscription ended (shared key with the expiry sweep).
//  - transition emails need a before: revoked, reinstated, plan changed. A license issued already in its final
//    state (its events arrived before its checkout) gets none of them.
// A license that is revoked gets nothing else, and one revoked before the customer ever heard of it gets no
// email at all (the checkout sends no key for it).

export type EmailContext = {
  license: LicenseRow;
  before: LicenseRow;
  prev: DerivedLicenseState | null;
  next: DerivedLicenseState;
  facts: BillingFacts;
  landing: boolean;
  version: number;
  graceDays: number;
  email: string;
};

export async function queueLicenseEmails(tx: Tx, c: EmailContext): Promise<string[]> {
  const owed: OwedEmail[] = [];
  collectLicenseEmails(c, owed);
  if (owed.length === 0) return [];
  // Most syncs re-derive emails already owed: one query finds them instead of one failed insert each.
  const known = new Set(
    (await tx.select({ key: emailOutbox.dedupeKey }).from(emailOutbox).where(inArray(emailOutbox.dedupeKey, owed.map((o) => o.dedupeKey)))).map(
      (r) => r.key,
    ),
  );
  const queued: string[] = [];
  for (const o of owed) {
    if (known.has(o.dedupeKey)) continue;
    if (await queueEmail(tx, { ...o, to: c.email, customerId: c.license.customerId } as Parameters<typeof queueEmail>[1])) {
      queued.push(o.template);
      // payment.failed follows the payment-failed email's rule: once per unpaid invoice, only while past due.
      if (o.template === "payment-failed") {
        await emitLicenseEvent(tx, "payment.failed", c.license.id, {
          payment: { invoiceId: o.props.invoiceId ?? null, hostedInvoiceUrl: o.props.fixPaymentUrl ?? null, graceEndsAt: o.props.graceEndsAt ?? null },
        });
      }
    }
  }
  return queued;
}

type OwedEmail = { [T in TemplateName]: { template: T; dedupeKey: string; props: TemplateProps[T] } }[TemplateName];

function collectLicenseEmails(c: EmailContext, out: OwedEmail[]) {
  const { license: l, before, prev, next, facts } = c;
  const owe = <T extends TemplateName>(input: { template: T; dedupeKey: string; props: TemplateProps[T] }) => {
    out.push(input as OwedEmail);
  };
  const transition = !c.landing;

  if (l.status === "revoked") {
    if (transition && before.status !== "revoked") {
      owe({
        template: "license-status-changed",
        dedupeKey: `license-status:${l.id}:revoked`,
        props: { licenseId: l.id, status: "revoked", reason: l.statusReason },
      });
    }
    return;
  }
  if (l.status === "suspended" && next.status === "suspended" && next.cause) {
    owe({
      template: "license-status-changed",
      dedupeKey: `license-status:${l.id}:suspended:${next.cause}`,
      props: { licenseId: l.id, status: "suspended", reason: next.reason },
    });
  }
  const working = l.status === "active" || l.status === "past_due";
  if (transition && prev?.status === "suspended" && next.status !== "suspended" && before.status === "suspended" && working) {
    owe({
      template: "license-status-changed",
      dedupeKey: `license-status:${l.id}:reinstated:${prev.cause}`,
      props: { licenseId: l.id, status: "reinstated", reason: null },
    });
  }
  // Expired by us: the subscription ended (it stopped at its end date), or a change landed past expiry plus grace
  // (a refund walking the expiry back, a dispute won too late). The sweep uses the same key for the same expiry.
  if (l.status === "expired" && l.expiresAt && (c.landing || before.status !== "expired")) {
    const stoppedAt = next.status === "expired" ? l.expiresAt : lapsesAt(l.expiresAt, c.graceDays);
    owe({
      template: "license-expired",
      dedupeKey: licenseExpiredDedupeKey(l.id, l.expiresAt),
      props: { licenseId: l.id, expiredAt: stoppedAt.toISOString() },
    });
  }
  if (transition && before.planId !== l.planId) {
    owe({
      template: "plan-changed",
      dedupeKey: `plan-changed:${l.id}:${before.planId}->${l.planId}:v${c.version}`,
      props: { licenseId: l.id, fromPlanId: before.planId, toPlanId: l.planId, previousSeats: before.maxActivations },
    });
  }
  if (!working || !facts.subscription) return;
  const sub = facts.subscription;

  if (l.status === "past_due" && sub.latestInvoiceId) {
    const failing = facts.invoices.find((i) => i.stripeInvoiceId === sub.latestInvoiceId);
    if (failing && (failing.status === "open" || failing.status === "uncollectible")) {
      owe({
        template: "payment-failed",
        dedupeKey: `payment-failed:${failing.stripeInvoiceId}:${l.id}`,
        props: {
          licenseId: l.id,
          invoiceId: failing.stripeInvoiceId,
          graceEndsAt: l.expiresAt ? lapsesAt(l.expiresAt, c.graceDays).toISOString() : null,
          fixPaymentUrl: failing.hostedInvoiceUrl,
        },
      });
    }
  }
  const expiry = next.expiresAt ? new Date(next.expiresAt).getTime() : null;
  const renewal = facts.invoices.find(
    (i) =>
      i.billingReason === "subscription_cycle" &&
      i.status === "paid" &&
      i.periodEnd?.getTime() === expiry &&
      !isFullyRefunded(facts, i),
  );
  if (renewal) {
    owe({
      template: "renewal-receipt",
      dedupeKey: `renewal-receipt:${renewal.stripeInvoiceId}:${l.id}`,
      props: { licenseId: l.id, invoiceId: renewal.stripeInvoiceId, renewedUntil: renewal.periodEnd!.toISOString() },
    });
  }
  if (next.cancelAt && l.cancelAt) {
    owe({
      template: "cancellation-scheduled",
      dedupeKey: `cancellation-scheduled:${sub.id}:${next.cancelAt}:${l.id}`,
      props: { licenseId: l.id, endsAt: next.cancelAt },
    });
  }
  return;
}
