import { and, eq } from "drizzle-orm";
import { activations } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { recordAudit } from "@/server/domain/audit/record";
import { AppError } from "@/server/domain/errors";
import { emitActivationEvent } from "@/server/domain/webhooks/emit";
import type { DeactivateLicenseInput } from "./inputs";
import { lookupKeyHash } from "./license-key";
import { removedColumns } from "./seats";
import { CLIENT_AUDIT_METADATA, CLIENT_ACTOR, licenseNotFound, lockLicenseByKeyHash } from "./lookup";

/**
 * POST /api/v1/licenses/deactivate: frees this machine's seat. Allowed whatever the license's status, so a
 * customer can always move a suspended or expired license's machine off it.
 */
export async function deactivateLicense(db: DbOrTx, input: DeactivateLicenseInput): Promise<{ deactivated: true }> {
  const keyHash = lookupKeyHash(input.key);
  if (!keyHash) throw licenseNotFound();
  return db.transaction(async (tx) => {
    // Same lock as activate: a seat count in progress never sees a half-finished change.
    const license = await lockLicenseByKeyHash(tx, keyHash);
    if (!license) throw licenseNotFound();
    const [removed] = await tx
      .delete(activations)
      .where(and(eq(activations.licenseId, license.id), eq(activations.fingerprint, input.fingerprint)))
      .returning(removedColumns);
    if (!removed) throw new AppError("NOT_ACTIVATED", "This machine is not activated on this license.");
    await recordAudit(tx, CLIENT_ACTOR, {
      action: "activation.deleted",
      subjectType: "license",
      subjectId: license.id,
      before: { activationId: removed.id, fingerprint: input.fingerprint, name: removed.name, platform: removed.platform },
      metadata: CLIENT_AUDIT_METADATA,
    });
    await emitActivationEvent(tx, "activation.deleted", license.id, [removed], { reason: "deactivated" });
    return { deactivated: true as const };
  });
}
