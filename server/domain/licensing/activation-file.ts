import { eq } from "drizzle-orm";
import { z } from "zod";
import { licenses, plans } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { DAY_MS, now } from "@/server/domain/clock";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { issueOfflineTokenWithClaims } from "@/server/domain/tokens/offline-token";
import { claimSeat } from "./activate";
import { FingerprintInput } from "./inputs";
import { isUuid } from "./list";
import { assertUsable, lockLicenseById, toActivationView } from "./lookup";
import type { AdminActivationView } from "./view";

/**
 * Activation files, for machines that never go online: an operator (admin app, management API) or the
 * customer (portal) takes a seat for a fingerprint and gets the offline token that attests it, with the plan's
 * longer `airGappedTtlDays` lifetime (capped at the license's expiry like every token). The machine loads it
 * with the SDK's `loadActivationFile` and checks it offline; deactivating it frees the seat here, but the
 * file keeps working on that machine until it expires (nothing can reach it to say otherwise).
 */

export const ActivationFileInput = z.strictObject({
  fingerprint: FingerprintInput,
  /** A label for the device lists ("Lab PC 3"). */
  name: storableText(1, 200).optional(),
});
export type ActivationFileInput = z.infer<typeof ActivationFileInput>;

/** The first line of the document: what the SDK (and a person opening the file) recognises it by. */
export const ACTIVATION_FILE_FORMAT = "keystead-activation-file-v1";

export type ActivationFileResult = {
  activation: AdminActivationView;
  /** The file's text: a small JSON document whose `token` is the offline token (CONTRACT.md "Offline tokens"). */
  file: string;
  /** A name to save it under. */
  fileName: string;
  expiresAt: string;
};

const notFound = () => new AppError("NOT_FOUND", "There is no license with that id.");

/**
 * Takes (or reuses) the fingerprint's seat in one transaction with the seat check (activate.ts's claimSeat),
 * then signs the token after commit. `customerIds`, when present, restricts it to those customers'
 * licenses (the portal): another customer's license is "not found", like one that does not exist.
 */
export async function createActivationFile(
  db: DbOrTx,
  actor: Actor,
  input: ActivationFileInput & { licenseId: string; customerIds?: string[] },
): Promise<ActivationFileResult> {
  if (!isUuid(input.licenseId)) throw notFound();
  const outcome = await db.transaction(async (tx) => {
    const at = now();
    const license = await lockLicenseById(tx, input.licenseId);
    if (!license || (input.customerIds !== undefined && !input.customerIds.includes(license.customerId))) throw notFound();
    assertUsable(license, at);
    const [plan] = await tx
      .select({ ttlDays: plans.airGappedTtlDays })
      .from(licenses)
      .innerJoin(plans, eq(plans.id, licenses.planId))
      .where(eq(licenses.id, license.id));
    if (!plan?.ttlDays) {
      throw new AppError(
        "INVALID_STATE",
        `The plan "${license.plan}" offers no activation files: set its airGappedTtlDays (activation file lifetime) first.`,
      );
    }
    const seat = await claimSeat(tx, license, at, { fingerprint: input.fingerprint, name: input.name, airGapped: true }, { actor });
    await recordAudit(tx, actor, {
      action: "activation.file_created",
      subjectType: "license",
      subjectId: license.id,
      after: { activationId: seat.activation.id, fingerprint: input.fingerprint, ttlDays: plan.ttlDays },
    });
    return { license, activation: seat.activation, ttlSeconds: (plan.ttlDays * DAY_MS) / 1000 };
  });

  // Signed after commit: a file must never attest a seat that was rolled back.
  const { token, claims } = await issueOfflineTokenWithClaims(db, outcome.license, input.fingerprint, {
    ttlSeconds: outcome.ttlSeconds,
  });
  const expiresAt = new Date(claims.exp * 1000).toISOString();
  const doc = {
    format: ACTIVATION_FILE_FORMAT,
    license: outcome.license.id,
    product: outcome.license.product,
    fingerprint: input.fingerprint,
    expiresAt,
    token,
  };
  return {
    activation: { ...toActivationView(outcome.activation), airGapped: outcome.activation.airGapped },
    file: `${JSON.stringify(doc, null, 2)}\n`,
    fileName: `${outcome.license.product}-${outcome.activation.id.slice(0, 8)}.keystead`,
    expiresAt,
  };
}
