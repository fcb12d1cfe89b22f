import { eq } from "drizzle-orm";
import { licenses, plans, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { addDays, now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { emitLicenseEvent } from "@/server/domain/webhooks/emit";
import { generateLicenseKey, sealLicenseKey } from "./license-key";

export type LicenseRow = typeof licenses.$inferSelect;

export type IssueLicenseInput = {
  planId: string;
  customerId: string;
  /** Activations allowed; default: the plan's seats. */
  maxActivations?: number;
  /** Default: now + the plan's duration, or perpetual. */
  expiresAt?: Date | null;
  source: "stripe" | "manual" | "import" | "trial";
  stripe?: {
    checkoutSessionId?: string | null;
    lineItemId?: string | null;
    subscriptionId?: string | null;
    paymentIntentId?: string | null;
    /** The Stripe price the license follows. */
    priceId?: string | null;
  };
  /**
   * The state Stripe's facts give a license from its first moment (server/domain/billing/license-state/derive.ts): a
   * subscription's renewal and trial, or a refund or dispute seen before the purchase. Default: active.
   */
  billing?: {
    status: LicenseStatus;
    statusReason: string | null;
    autoRenews: boolean;
    cancelAt: Date | null;
    trialEndsAt: Date | null;
  };
};

/**
 * Issues one license with a fresh key. Call inside the transaction that also records why it was issued
 * (the Stripe event, the admin action) and queues its email. Returns the plain key: the only time it exists
 * outside its sealed form.
 */
export async function issueLicense(tx: DbOrTx, actor: Actor, input: IssueLicenseInput) {
  const [plan] = await tx.select().from(plans).where(eq(plans.id, input.planId));
  if (!plan) throw new AppError("PLAN_NOT_FOUND", "That plan does not exist.");
  const maxActivations = input.maxActivations ?? plan.seats;
  if (!Number.isInteger(maxActivations) || maxActivations < 1) {
    throw new AppError("BAD_REQUEST", "A license needs at least one seat.");
  }
  const expiresAt =
    input.expiresAt !== undefined ? input.expiresAt : plan.durationDays ? addDays(now(), plan.durationDays) : null;

  const key = generateLicenseKey();
  const [license] = await tx
    .insert(licenses)
    .values({
      ...sealLicenseKey(key),
      customerId: input.customerId,
      planId: plan.id,
      status: input.billing?.status ?? "active",
      statusReason: input.billing?.statusReason ?? null,
      autoRenews: input.billing?.autoRenews ?? false,
      cancelAt: input.billing?.cancelAt ?? null,
      trialEndsAt: input.billing?.trialEndsAt ?? null,
      stripePriceId: input.stripe?.priceId ?? null,
      maxActivations,
      expiresAt,
      source: input.source,
      stripeCheckoutSessionId: input.stripe?.checkoutSessionId ?? null,
      stripeLineItemId: input.stripe?.lineItemId ?? null,
      stripeSubscriptionId: input.stripe?.subscriptionId ?? null,
      stripePaymentIntentId: input.stripe?.paymentIntentId ?? null,
      createdAt: now(),
      updatedAt: now(),
    })
    .returning();
  await recordAudit(tx, actor, {
    action: "license.issued",
    subjectType: "license",
    subjectId: license!.id,
    after: {
      plan: plan.slug,
      maxActivations,
      expiresAt,
      source: input.source,
      keyHint: license!.keyHint,
      ...(input.billing ? { status: license!.status, autoRenews: license!.autoRenews, trialEndsAt: license!.trialEndsAt } : {}),
    },
  });
  // Every door that makes a license comes through here: checkout, by hand, import, trial.
  await emitLicenseEvent(tx, "license.created", license!.id);
  return { license: license!, key };
}
