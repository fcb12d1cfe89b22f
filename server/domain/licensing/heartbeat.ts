import type { Db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { issueOfflineToken } from "@/server/domain/tokens/offline-token";
import type { HeartbeatInput } from "./inputs";
import { lookupKeyHash } from "./license-key";
import { touchActivation } from "./touch";
import { assertUsable, licenseNotFound, lookupLicense, toActivationView, toLicenseView } from "./lookup";
import type { ActivationView, LicenseView } from "./view";

const notActivated = () => new AppError("NOT_ACTIVATED", "This machine is not activated on this license.");

/**
 * POST /api/v1/licenses/heartbeat: the machine checks in, we record when, and it gets a fresh offline token.
 * A license that may not be used (suspended, revoked, expired) gets no new token: its machines fall back
 * to the token they hold, which expires on its own.
 */
export async function recordHeartbeat(
  db: Db,
  input: HeartbeatInput,
): Promise<{ activation: ActivationView; license: LicenseView; token: string }> {
  const keyHash = lookupKeyHash(input.key);
  if (!keyHash) throw licenseNotFound();
  const found = await lookupLicense(db, keyHash, input.fingerprint);
  if (!found) throw licenseNotFound();
  const at = now();
  assertUsable(found.license, at, input.product);
  if (!found.activation) throw notActivated();

  // One statement, shared with concurrent requests; no row means it was deactivated since the read.
  const activation = await touchActivation(db, found.activation.id, at);
  if (!activation) throw notActivated();

  const token = await issueOfflineToken(db, found.license, input.fingerprint, { kid: found.signingKid ?? undefined });
  return { activation: toActivationView(activation), license: toLicenseView(found.license, found.activations, at), token };
}
