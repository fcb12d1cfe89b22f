import { and, asc, eq, inArray } from "drizzle-orm";
import { licenses, plans } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { emitLicenseEvent } from "@/server/domain/webhooks/emit";
import { addDays, now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import type { IssueLicenseInput, LicenseRow } from "./issue";

/**
 * Buying a product after its card-free trial: the trial license (source "trial") becomes the paid one instead
 * of a second license being issued, so the key the customer already typed in keeps working, on the same
 * devices. Called by checkout issuing, inside its transaction, in place of issueLicense.
 */

/** The buyer's unconverted trial license of this product (the oldest, if somehow several), locked. */
export async function convertibleTrial(tx: Tx, customerId: string, productId: string): Promise<string | null> {
  const [row] = await tx
    .select({ id: licenses.id })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .where(
      and(
        eq(licenses.customerId, customerId),
        eq(plans.productId, productId),
        eq(licenses.source, "trial"),
        inArray(licenses.status, ["active", "past_due", "expired"]),
      ),
    )
    .orderBy(asc(licenses.createdAt))
    .limit(1)
    .for("update", { of: licenses });
  return row?.id ?? null;
}

/** Moves the trial license to what issueLicense would have issued, keeping its id and key. */
export async function convertTrialLicense(licenseId: string, tx: Tx, actor: Actor, input: IssueLicenseInput): Promise<{ license: LicenseRow; key: null }> {
  const [plan] = await tx.select().from(plans).where(eq(plans.id, input.planId));
  if (!plan) throw new AppError("PLAN_NOT_FOUND", "That plan does not exist.");
  const [before] = await tx.select().from(licenses).where(eq(licenses.id, licenseId));
  const expiresAt = input.expiresAt !== undefined ? input.expiresAt : plan.durationDays ? addDays(now(), plan.durationDays) : null;
  const [license] = await tx
    .update(licenses)
    .set({
      planId: plan.id,
      status: input.billing?.status ?? "active",
      statusReason: input.billing?.statusReason ?? null,
      autoRenews: input.billing?.autoRenews ?? false,
      cancelAt: input.billing?.cancelAt ?? null,
      trialEndsAt: input.billing?.trialEndsAt ?? null,
      maxActivations: input.maxActivations ?? plan.seats,
      expiresAt,
      source: input.source,
      stripeCheckoutSessionId: input.stripe?.checkoutSessionId ?? null,
      stripeLineItemId: input.stripe?.lineItemId ?? null,
      stripeSubscriptionId: input.stripe?.subscriptionId ?? null,
      stripePaymentIntentId: input.stripe?.paymentIntentId ?? null,
      stripePriceId: input.stripe?.priceId ?? null,
      updatedAt: now(),
    })
    .where(eq(licenses.id, licenseId))
    .returning();
  await recordAudit(tx, actor, {
    action: "license.trial_converted",
    subjectType: "license",
    subjectId: licenseId,
    before: { planId: before?.planId, status: before?.status, expiresAt: before?.expiresAt, trialEndsAt: before?.trialEndsAt, maxActivations: before?.maxActivations },
    after: { plan: plan.slug, status: license!.status, expiresAt: license!.expiresAt, maxActivations: license!.maxActivations, source: input.source },
  });
  // A bought trial keeps its id and key: receivers see it change, not a new license.
  const changed = [
    ...(before?.planId !== license!.planId ? ["plan"] : []),
    ...(before?.maxActivations !== license!.maxActivations ? ["seats"] : []),
    ...(before?.expiresAt?.getTime() !== license!.expiresAt?.getTime() ? ["expiresAt"] : []),
    ...(before?.status !== license!.status ? ["status"] : []),
  ];
  await emitLicenseEvent(tx, "license.updated", licenseId, { changed, trialConverted: true });
  return { license: license!, key: null };
}
