import { and, count, eq, lt, sql } from "drizzle-orm";
import { activations } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { issueOfflineToken } from "@/server/domain/tokens/offline-token";
import type { ActivateLicenseInput } from "./inputs";
import { hashLicenseKey } from "./license-key";
import {
  CLIENT_ACTOR,
  CLIENT_AUDIT_METADATA,
  activationColumns,
  assertUsable,
  licenseNotFound,
  lockLicenseByKeyHash,
  toActivationView,
  toLicenseView,
  type LicenseRecord,
} from "./lookup";
import type { ActivationView, LicenseView } from "./view";

export type ActivateResult = {
  /** 201 for a new activation, 200 when this fingerprint was already activated. */
  status: 200 | 201;
  activation: ActivationView;
  license: LicenseView;
  token: string;
};

/**
 * POST /api/v1/licenses/activate. Seats hold under concurrency: the license row is locked FOR UPDATE before
 * the seats are counted, so racing activations of one license run one after another, and each counts in a
 * statement that starts after the previous one committed.
 */
export async function activateLicense(db: DbOrTx, input: ActivateLicenseInput): Promise<ActivateResult> {
  const keyHash = hashLicenseKey(input.key);
  if (!keyHash) throw licenseNotFound();

  const outcome = await db.transaction(async (tx) => {
    const at = now();
    const license = await lockLicenseByKeyHash(tx, keyHash);
    if (!license) throw licenseNotFound();
    assertUsable(license, at, input.product);

    // A separate statement from the lock on purpose: its snapshot is taken after the lock was granted.
    const [seats] = await tx
      .select({
        used: count(),
        existingId: sql<string | null>`(array_agg(${activations.id}) filter (where ${activations.fingerprint} = ${input.fingerprint}))[1]`,
      })
      .from(activations)
      .where(eq(activations.licenseId, license.id));
    let used = seats!.used;

    if (seats!.existingId) {
      // Idempotent: the same machine activating again gets its activation back (details refreshed if sent).
      const [activation] = await tx
        .update(activations)
        .set({
          lastSeenAt: at,
          ...(input.name !== undefined && { name: input.name }),
          ...(input.platform !== undefined && { platform: input.platform }),
          ...(input.metadata !== undefined && { metadata: input.metadata }),
        })
        .where(eq(activations.id, seats!.existingId))
        .returning(activationColumns);
      return { status: 200 as const, license, activation: activation!, used, at };
    }

    if (used >= license.maxActivations && license.heartbeatWindowSeconds) {
      used -= await freeLapsedSeats(tx, license, at);
    }
    if (used >= license.maxActivations) {
      throw new AppError(
        "TOO_MANY_ACTIVATIONS",
        `All ${license.maxActivations} seats of this license are in use; deactivate another machine first.`,
        { maxActivations: license.maxActivations, activations: used },
      );
    }

    const [activation] = await tx
      .insert(activations)
      .values({
        licenseId: license.id,
        fingerprint: input.fingerprint,
        name: input.name ?? null,
        platform: input.platform ?? null,
        metadata: input.metadata ?? {},
        createdAt: at,
        lastSeenAt: at,
      })
      .returning(activationColumns);
    await recordAudit(tx, CLIENT_ACTOR, {
      action: "activation.created",
      subjectType: "license",
      subjectId: license.id,
      after: { activationId: activation!.id, fingerprint: input.fingerprint, name: input.name ?? null, platform: input.platform ?? null },
      metadata: CLIENT_AUDIT_METADATA,
    });
    return { status: 201 as const, license, activation: activation!, used: used + 1, at };
  });

  // Signed after commit: a token must never attest an activation that was rolled back.
  const token = await issueOfflineToken(db, outcome.license, input.fingerprint);
  return {
    status: outcome.status,
    activation: toActivationView(outcome.activation),
    license: toLicenseView(outcome.license, outcome.used, outcome.at),
    token,
  };
}

/**
 * Floating seats: on a plan with a heartbeat window, machines not seen within it give their seat back when
 * a new one needs it. Returns how many were freed.
 */
async function freeLapsedSeats(tx: Tx, license: LicenseRecord, at: Date): Promise<number> {
  const cutoff = new Date(at.getTime() - license.heartbeatWindowSeconds! * 1000);
  const freed = await tx
    .delete(activations)
    .where(and(eq(activations.licenseId, license.id), lt(activations.lastSeenAt, cutoff)))
    .returning({ id: activations.id, fingerprint: activations.fingerprint, lastSeenAt: activations.lastSeenAt });
  if (freed.length) {
    await recordAudit(tx, CLIENT_ACTOR, {
      action: "activation.lapsed",
      subjectType: "license",
      subjectId: license.id,
      before: { activations: freed },
      metadata: { ...CLIENT_AUDIT_METADATA, heartbeatWindowSeconds: license.heartbeatWindowSeconds },
    });
  }
  return freed.length;
}
