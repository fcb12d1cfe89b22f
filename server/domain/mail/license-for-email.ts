import { eq } from "drizzle-orm";
import type { LicenseFacts } from "@/emails/_components/license-facts";
import { licenses, plans, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { PermanentEmailError } from "./rendered";

/**
 * The license as an email describes it, read at send time (an outbox row stores only the license id and the
 * facts of the change, never the key): the facts every license email shows, and what the lifecycle and
 * device-reset emails work out from. A license deleted since the email was owed can never be described.
 */
export type LicenseForEmail = {
  facts: LicenseFacts;
  expiresAt: Date | null;
  graceDays: number;
  autoRenews: boolean;
  cancelAt: Date | null;
  stripeSubscriptionId: string | null;
  lastResetAt: Date | null;
  resetCooldownDays: number;
};

export async function loadLicenseForEmail(tx: DbOrTx, licenseId: string): Promise<LicenseForEmail> {
  const [row] = await tx
    .select({
      keyHint: licenses.keyHint,
      seats: licenses.maxActivations,
      expiresAt: licenses.expiresAt,
      autoRenews: licenses.autoRenews,
      cancelAt: licenses.cancelAt,
      stripeSubscriptionId: licenses.stripeSubscriptionId,
      lastResetAt: licenses.lastResetAt,
      planName: plans.name,
      entitlements: plans.entitlements,
      graceDays: plans.graceDays,
      resetCooldownDays: plans.resetCooldownDays,
      productName: products.name,
    })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(licenses.id, licenseId));
  if (!row) throw new PermanentEmailError(`License ${licenseId} no longer exists.`);
  return {
    facts: {
      productName: row.productName,
      planName: row.planName,
      keyHint: row.keyHint,
      seats: row.seats,
      expiresAt: row.expiresAt ? row.expiresAt.toISOString() : null,
      entitlements: row.entitlements,
    },
    expiresAt: row.expiresAt,
    graceDays: row.graceDays,
    autoRenews: row.autoRenews,
    cancelAt: row.cancelAt,
    stripeSubscriptionId: row.stripeSubscriptionId,
    lastResetAt: row.lastResetAt,
    resetCooldownDays: row.resetCooldownDays,
  };
}
