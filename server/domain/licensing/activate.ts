import { and, count, eq, lt, sql } from "drizzle-orm";
import { activations } from "@/server/db/schema";
import type { Db, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { issueOfflineToken } from "@/server/domain/tokens/offline-token";
import { emitActivationEvent } from "@/server/domain/webhooks/emit";
import type { ActivateLicenseInput } from "./inputs";
import { claimTrialMachine } from "./trial-machine";
import { lookupKeyHash } from "./license-key";
import { removedColumns } from "./seats";
import { touchActivation } from "./touch";
import {
  CLIENT_ACTOR,
  CLIENT_AUDIT_METADATA,
  activationColumns,
  assertUsable,
  licenseNotFound,
  lockLicenseByKeyHash,
  lookupLicense,
  toActivationView,
  toLicenseView,
  type ActivationRecord,
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
 *
 * Most calls are a machine activating again (software calls activate at launch): that needs no seat, so no
 * lock: `activateAgain` answers it with the hot path's shared read and one write of last-seen.
 */
export async function activateLicense(db: Db, input: ActivateLicenseInput): Promise<ActivateResult> {
  const keyHash = lookupKeyHash(input.key);
  if (!keyHash) throw licenseNotFound();

  const again = await activateAgain(db, keyHash, input);
  if (again) return again;

  const outcome = await db.transaction(async (tx) => {
    const at = now();
    const license = await lockLicenseByKeyHash(tx, keyHash);
    if (!license) throw licenseNotFound();
    assertUsable(license, at, input.product);

    const seat = await claimSeat(tx, license, at, input, { actor: CLIENT_ACTOR, metadata: CLIENT_AUDIT_METADATA });
    return { ...seat, license, at };
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
 * This machine's existing activation, refreshed and with a fresh token, without taking the license lock: the
 * answer claimSeat gives a machine already activated, from the same rules in the same order (not found, not
 * usable, then the seat). Null when the machine has no activation (it needs a seat: the caller takes the lock).
 *
 * The write is the commit point. It either finds the activation and marks it seen before anything answers, or
 * finds it gone (deactivated, reset, lapsed since the read) and we fall back to the seat rule, under the lock.
 * A floating-seat plan's lapse check (freeLapsedSeats) deletes only rows still unseen when it runs, so a seat
 * refreshed here is never freed by a racing activation of another machine.
 */
async function activateAgain(db: Db, keyHash: string, input: ActivateLicenseInput): Promise<ActivateResult | null> {
  const found = await lookupLicense(db, keyHash, input.fingerprint);
  if (!found) throw licenseNotFound();
  const at = now();
  assertUsable(found.license, at, input.product);
  if (!found.activation) return null;

  const activation = await touchActivation(db, found.activation.id, at, {
    name: input.name,
    platform: input.platform,
    metadata: input.metadata,
  });
  if (!activation) return null;
  const token = await issueOfflineToken(db, found.license, input.fingerprint, { kid: found.signingKid ?? undefined });
  return { status: 200, activation: toActivationView(activation), license: toLicenseView(found.license, found.activations, at), token };
}

const seatColumns = { ...activationColumns, airGapped: activations.airGapped };

/** One machine asking for a seat: by the public activate route, or by an activation file (airGapped). */
export type SeatRequest = {
  fingerprint: string;
  name?: string;
  platform?: string;
  metadata?: Record<string, unknown>;
  airGapped?: boolean;
};

/**
 * The seat rule, inside the transaction that holds the license row's lock (lockLicenseByKeyHash or
 * lockLicenseById): the machine's existing activation back (its details refreshed), or a new one if a seat is
 * free, or TOO_MANY_ACTIVATIONS. The seats are counted in a separate statement from the lock on purpose: its
 * snapshot is taken after the lock was granted.
 */
export async function claimSeat(
  tx: Tx,
  license: LicenseRecord,
  at: Date,
  req: SeatRequest,
  audit: { actor: Actor; metadata?: Record<string, unknown> },
): Promise<{ status: 200 | 201; activation: ActivationRecord & { airGapped: boolean }; used: number }> {
  const [seats] = await tx
    .select({
      used: count(),
      existingId: sql<string | null>`(array_agg(${activations.id}) filter (where ${activations.fingerprint} = ${req.fingerprint}))[1]`,
    })
    .from(activations)
    .where(eq(activations.licenseId, license.id));
  let used = seats!.used;

  if (seats!.existingId) {
    // Idempotent: the same machine activating again gets its activation back (details refreshed if sent).
    // A file made for a machine that was online once marks it air-gapped from now on; going online does not
    // unmark it (its file is still out there).
    const [activation] = await tx
      .update(activations)
      .set({
        lastSeenAt: at,
        ...(req.name !== undefined && { name: req.name }),
        ...(req.platform !== undefined && { platform: req.platform }),
        ...(req.metadata !== undefined && { metadata: req.metadata }),
        ...(req.airGapped && { airGapped: true }),
      })
      .where(eq(activations.id, seats!.existingId))
      .returning(seatColumns);
    return { status: 200, activation: activation!, used };
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

  // Card-free trials only: one trial per machine per product. Paid licenses never reach this query.
  if (license.source === "trial") await claimTrialMachine(tx, license, req.fingerprint);

  const airGapped = req.airGapped ?? false;
  const [activation] = await tx
    .insert(activations)
    .values({
      licenseId: license.id,
      fingerprint: req.fingerprint,
      name: req.name ?? null,
      platform: req.platform ?? null,
      metadata: req.metadata ?? {},
      airGapped,
      createdAt: at,
      lastSeenAt: at,
    })
    .returning(seatColumns);
  await recordAudit(tx, audit.actor, {
    action: "activation.created",
    subjectType: "license",
    subjectId: license.id,
    after: { activationId: activation!.id, fingerprint: req.fingerprint, name: req.name ?? null, platform: req.platform ?? null, airGapped },
    metadata: audit.metadata,
  });
  await emitActivationEvent(tx, "activation.created", license.id, [activation!]);
  return { status: 201, activation: activation!, used: used + 1 };
}

/**
 * Floating seats: on a plan with a heartbeat window, machines not seen within it give their seat back when
 * a new one needs it. Returns how many were freed. Air-gapped machines are never seen by design: they keep
 * their seat until someone deactivates them.
 */
async function freeLapsedSeats(tx: Tx, license: LicenseRecord, at: Date): Promise<number> {
  const cutoff = new Date(at.getTime() - license.heartbeatWindowSeconds! * 1000);
  const freed = await tx
    .delete(activations)
    .where(and(eq(activations.licenseId, license.id), eq(activations.airGapped, false), lt(activations.lastSeenAt, cutoff)))
    .returning(removedColumns);
  if (freed.length) {
    await recordAudit(tx, CLIENT_ACTOR, {
      action: "activation.lapsed",
      subjectType: "license",
      subjectId: license.id,
      before: { activations: freed.map((a) => ({ id: a.id, fingerprint: a.fingerprint, lastSeenAt: a.lastSeenAt })) },
      metadata: { ...CLIENT_AUDIT_METADATA, heartbeatWindowSeconds: license.heartbeatWindowSeconds },
    });
  }
  await emitActivationEvent(tx, "activation.deleted", license.id, freed, { reason: "lapsed" });
  return freed.length;
}
