import { and, eq } from "drizzle-orm";
import { trialFingerprints } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import { AppError } from "@/server/domain/errors";
import type { LicenseRecord } from "./lookup";

/**
 * A trial license's new activation: the machine is recorded as having run a trial of the product, or refused
 * with TRIAL_USED when another trial license of that product already ran on it. The primary key on
 * (product, fingerprint) decides under races: two trial licenses activating one machine at once, one wins.
 */
export async function claimTrialMachine(tx: Tx, license: LicenseRecord, fingerprint: string) {
  if (!license.productId) throw new Error("claimTrialMachine needs the license's product id (lockLicenseWhere reads it).");
  const inserted = await tx
    .insert(trialFingerprints)
    .values({ productId: license.productId, fingerprint, licenseId: license.id })
    .onConflictDoNothing()
    .returning({ licenseId: trialFingerprints.licenseId });
  if (inserted.length > 0) return;
  const [holder] = await tx
    .select({ licenseId: trialFingerprints.licenseId })
    .from(trialFingerprints)
    .where(and(eq(trialFingerprints.productId, license.productId), eq(trialFingerprints.fingerprint, fingerprint)));
  if (holder && holder.licenseId !== license.id) {
    throw new AppError("TRIAL_USED", "This machine has already used a free trial of this product; buy a license to keep using it.");
  }
}
