import type { LicenseStatus } from "@/server/db/schema";
import { AppError } from "@/server/domain/errors";

/**
 * The rule for sending the license email again, from either door (the admin's resend, the customer's in the
 * portal): never for a revoked license. Its key is dead (every route refuses it) and revoked is final, so the
 * email would only hand out a key that looks usable. Suspended and expired keys may still come back (reinstated,
 * extended, renewed), so they are sent. The caller holds the license row's lock, so a revoke cannot slip in
 * between this check and the queued email.
 */
export function assertKeyMayBeSent(license: { status: LicenseStatus }) {
  if (license.status === "revoked") {
    throw new AppError("INVALID_STATE", "A revoked license's key is dead: there is nothing to send.", { status: license.status });
  }
}
