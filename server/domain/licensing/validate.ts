import type { Db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import type { ValidateLicenseInput } from "./inputs";
import { lookupKeyHash } from "./license-key";
import { blockingCode, lookupLicense, toActivationView, toLicenseView } from "./lookup";
import type { ActivationView, LicenseView } from "./view";

export type ValidationCode =
  | "VALID"
  | "NOT_FOUND"
  | "REVOKED"
  | "SUSPENDED"
  | "EXPIRED"
  | "PRODUCT_MISMATCH"
  | "NOT_ACTIVATED"
  | "ENTITLEMENTS_MISSING";

export type ValidationResult = {
  valid: boolean;
  code: ValidationCode;
  license: LicenseView | null;
  activation: ActivationView | null;
};

/**
 * POST /api/v1/licenses/validate: read-only, one round trip (the hot path). Every outcome is an answer, not
 * an error; the first rule that fails names the code.
 */
export async function validateLicense(db: Db, input: ValidateLicenseInput): Promise<ValidationResult> {
  const keyHash = lookupKeyHash(input.key);
  const found = keyHash ? await lookupLicense(db, keyHash, input.fingerprint) : null;
  if (!found) return { valid: false, code: "NOT_FOUND", license: null, activation: null };

  const at = now();
  const license = toLicenseView(found.license, found.activations, at);
  const activation = found.activation ? toActivationView(found.activation) : null;
  const answer = (code: ValidationCode) => ({ valid: code === "VALID", code, license, activation });

  const blocked = blockingCode(found.license, at);
  if (blocked) return answer(blocked);
  if (input.product !== undefined && input.product !== found.license.product) return answer("PRODUCT_MISMATCH");
  if (input.fingerprint !== undefined && !activation) return answer("NOT_ACTIVATED");
  if (input.entitlements?.some((e) => !found.license.entitlements.includes(e))) return answer("ENTITLEMENTS_MISSING");
  return answer("VALID");
}
