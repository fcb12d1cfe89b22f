import { eq, sql } from "drizzle-orm";
import type { TemplateName, TemplateProps } from "@/emails";
import { CancellationScheduledEmail, cancellationScheduledSubject } from "@/emails/cancellation-scheduled";
import { LicenseExpiredEmail, licenseExpiredSubject } from "@/emails/license-expired";
import { LicenseExpiringEmail, licenseExpiringSubject } from "@/emails/license-expiring";
import { LicenseStatusChangedEmail, licenseStatusChangedSubject } from "@/emails/license-status-changed";
import { PaymentFailedEmail, paymentFailedSubject } from "@/emails/payment-failed";
import { PlanChangedEmail, planChangedSubject } from "@/emails/plan-changed";
import { RenewalReceiptEmail, renewalReceiptSubject } from "@/emails/renewal-receipt";
import { TrialEndingEmail, trialEndingSubject } from "@/emails/trial-ending";
import { activations, plans } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { DAY_MS, addDays, now } from "@/server/domain/clock";
import { env } from "@/server/env";
import { loadLicenseForEmail as loadLicense } from "./license-for-email";
import { PermanentEmailError, renderElement, type RenderedEmail } from "./rendered";

/**
 * Renderers of the lifecycle emails (Stripe-driven changes, admin actions, sweeps). Like the license email, each
 * outbox row stores only the license id and the facts of the change; the license, plan and product are read
 * here, at send time. None of these emails carries the key: they name the license by its hint.
 */

const LIFECYCLE_TEMPLATES = [
  "renewal-receipt",
  "payment-failed",
  "cancellation-scheduled",
  "license-expiring",
  "trial-ending",
  "license-expired",
  "license-status-changed",
  "plan-changed",
] as const satisfies readonly TemplateName[];

export type LifecycleTemplate = (typeof LIFECYCLE_TEMPLATES)[number];

export const isLifecycleTemplate = (name: TemplateName): name is LifecycleTemplate =>
  (LIFECYCLE_TEMPLATES as readonly string[]).includes(name);

async function loadPlan(tx: DbOrTx, planId: string) {
  const [plan] = await tx
    .select({ name: plans.name, entitlements: plans.entitlements })
    .from(plans)
    .where(eq(plans.id, planId));
  if (!plan) throw new PermanentEmailError(`Plan ${planId} no longer exists.`);
  return plan;
}

export async function renderLifecycleEmail(tx: DbOrTx, template: LifecycleTemplate, rawProps: unknown): Promise<RenderedEmail> {
  const appUrl = env().APP_URL;
  switch (template) {
    case "renewal-receipt": {
      const props = rawProps as TemplateProps["renewal-receipt"];
      const { facts: license } = await loadLicense(tx, props.licenseId);
      const p = { appUrl, license, renewedUntil: props.renewedUntil };
      return renderElement(renewalReceiptSubject(p), <RenewalReceiptEmail {...p} />);
    }
    case "payment-failed": {
      const props = rawProps as TemplateProps["payment-failed"];
      const l = await loadLicense(tx, props.licenseId);
      // Without an explicit date, the license works until its expiry plus the plan's grace days.
      const graceEndsAt = props.graceEndsAt ?? (l.expiresAt ? addDays(l.expiresAt, l.graceDays).toISOString() : null);
      const p = { appUrl, license: l.facts, graceEndsAt, fixPaymentUrl: props.fixPaymentUrl ?? null };
      return renderElement(paymentFailedSubject(p), <PaymentFailedEmail {...p} />);
    }
    case "cancellation-scheduled": {
      const props = rawProps as TemplateProps["cancellation-scheduled"];
      const { facts: license } = await loadLicense(tx, props.licenseId);
      const p = { appUrl, license, endsAt: props.endsAt };
      return renderElement(cancellationScheduledSubject(p), <CancellationScheduledEmail {...p} />);
    }
    case "license-expiring": {
      const props = rawProps as TemplateProps["license-expiring"];
      const l = await loadLicense(tx, props.licenseId);
      const daysLeft = Math.max(1, Math.ceil((new Date(props.expiresAt).getTime() - now().getTime()) / DAY_MS));
      const p = {
        appUrl,
        license: l.facts,
        expiresAt: props.expiresAt,
        daysLeft,
        // Only a subscription can be resumed; a one-time or hand-issued license is renewed by buying again.
        renewal: l.stripeSubscriptionId ? ("resume-subscription" as const) : ("renew" as const),
      };
      return renderElement(licenseExpiringSubject(p), <LicenseExpiringEmail {...p} />);
    }
    case "trial-ending": {
      const props = rawProps as TemplateProps["trial-ending"];
      const l = await loadLicense(tx, props.licenseId);
      const p = { appUrl, license: l.facts, trialEndsAt: props.trialEndsAt, converts: l.autoRenews && !l.cancelAt };
      return renderElement(trialEndingSubject(p), <TrialEndingEmail {...p} />);
    }
    case "license-expired": {
      const props = rawProps as TemplateProps["license-expired"];
      const { facts: license } = await loadLicense(tx, props.licenseId);
      const p = { appUrl, license, expiredAt: props.expiredAt };
      return renderElement(licenseExpiredSubject(p), <LicenseExpiredEmail {...p} />);
    }
    case "license-status-changed": {
      const props = rawProps as TemplateProps["license-status-changed"];
      const { facts: license } = await loadLicense(tx, props.licenseId);
      const p = { appUrl, license, status: props.status, reason: props.reason ?? null };
      return renderElement(licenseStatusChangedSubject(p), <LicenseStatusChangedEmail {...p} />);
    }
    case "plan-changed": {
      const props = rawProps as TemplateProps["plan-changed"];
      const l = await loadLicense(tx, props.licenseId);
      const from = await loadPlan(tx, props.fromPlanId);
      const to = await loadPlan(tx, props.toPlanId);
      const [{ n } = { n: 0 }] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(activations)
        .where(eq(activations.licenseId, props.licenseId));
      // The plan named is the one moved to, even if the license has moved again since: that move owes its own email.
      const license = { ...l.facts, planName: to.name, entitlements: to.entitlements };
      const p = { appUrl, license, fromPlan: from, previousSeats: props.previousSeats ?? null, activations: n };
      return renderElement(planChangedSubject(p), <PlanChangedEmail {...p} />);
    }
  }
}
