import { eq } from "drizzle-orm";
import { licenses, plans } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { emitActivationEvent } from "@/server/domain/webhooks/emit";
import { DAY_MS } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import type { LicenseRow } from "./issue";
import { isUuid } from "./list";
import { removeAllActivations } from "./seats";

/**
 * "Reset all devices": every activation of a license is removed at once, so the customer can activate on new
 * machines. Self-service (portal, the Key Commander storefront) may do it once per the plan's
 * `resetCooldownDays`, counted from the license's `last_reset_at`; the operator (admin app, management API,
 * an approved manual-reset request) may always do it, and that reset counts too: `last_reset_at` is set by
 * every reset, so the customer's next self-service reset is one cooldown after the operator's.
 */

export type ResetWindow = {
  /** When the next self-service reset is allowed; null: it is allowed now (never reset, or the cooldown passed). */
  nextAllowedAt: Date | null;
  /** Seconds until then (0 when allowed now). */
  retryAfterSeconds: number;
  cooldownDays: number;
};

/** The cooldown rule itself, pure: a reset at `lastResetAt` allows the next one `cooldownDays` later. */
export function resetWindow(lastResetAt: Date | null, cooldownDays: number, at: Date): ResetWindow {
  if (!lastResetAt || cooldownDays <= 0) return { nextAllowedAt: null, retryAfterSeconds: 0, cooldownDays };
  const next = new Date(lastResetAt.getTime() + cooldownDays * DAY_MS);
  if (next.getTime() <= at.getTime()) return { nextAllowedAt: null, retryAfterSeconds: 0, cooldownDays };
  return { nextAllowedAt: next, retryAfterSeconds: Math.ceil((next.getTime() - at.getTime()) / 1000), cooldownDays };
}

/** When the reset just made (at `at`) allows the next self-service one. */
export const nextAllowedAfterReset = (at: Date, cooldownDays: number) => new Date(at.getTime() + Math.max(0, cooldownDays) * DAY_MS);

export type ResetOptions = {
  /** The operator's resets (admin action, approved request) are not held to the cooldown. */
  bypassCooldown?: boolean;
  /** Which door asked, for the audit row: "portal", "admin", "api", "request", "key-commander". */
  via: string;
  /** The manual-reset request this reset approves, if any. */
  requestId?: string;
};

export type ResetResult = {
  row: LicenseRow;
  removed: { id: string; fingerprint: string }[];
  lastResetAt: Date;
  nextAllowedResetAt: Date;
};

const notFound = () => new AppError("NOT_FOUND", "There is no license with that id.");

/** RESET_COOLDOWN (429) with the time the next reset is allowed. */
export function cooldownError(w: ResetWindow & { nextAllowedAt: Date }) {
  return new AppError(
    "RESET_COOLDOWN",
    `Devices can be reset once every ${w.cooldownDays} ${w.cooldownDays === 1 ? "day" : "days"}; the next reset is allowed at ${w.nextAllowedAt.toISOString()}.`,
    { nextAllowedAt: w.nextAllowedAt.toISOString(), retryAfterSeconds: w.retryAfterSeconds },
  );
}

/**
 * Removes every activation of the license, in the caller's transaction: locks the license row (serialising
 * with activations and with a second reset, which then sees this one's `last_reset_at`), checks the cooldown
 * unless bypassed, deletes through seats.ts, stamps `last_reset_at` and writes the audit row.
 * A revoked license cannot be reset (409 INVALID_STATE): its devices no longer matter.
 *
 * Outgoing webhooks: one "activation.deleted" per removed activation (the `removed` list) belongs to this
 * transaction, where removeAllActivations returns them.
 */
export async function resetAllDevices(tx: Tx, license: { id: string }, actor: Actor, at: Date, opts: ResetOptions): Promise<ResetResult> {
  if (!isUuid(license.id)) throw notFound();
  const [found] = await tx
    .select({ row: licenses, cooldownDays: plans.resetCooldownDays })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .where(eq(licenses.id, license.id))
    .for("update", { of: licenses });
  if (!found) throw notFound();
  const { row, cooldownDays } = found;
  if (row.status === "revoked") {
    throw new AppError("INVALID_STATE", "A revoked license cannot be reset.", { status: row.status });
  }
  if (!opts.bypassCooldown) {
    const w = resetWindow(row.lastResetAt, cooldownDays, at);
    if (w.nextAllowedAt) throw cooldownError({ ...w, nextAllowedAt: w.nextAllowedAt });
  }

  const removed = await removeAllActivations(tx, row.id);
  const [after] = await tx.update(licenses).set({ lastResetAt: at, updatedAt: at }).where(eq(licenses.id, row.id)).returning();
  await recordAudit(tx, actor, {
    action: "license.activations_reset",
    subjectType: "license",
    subjectId: row.id,
    before: { lastResetAt: row.lastResetAt?.toISOString() ?? null },
    after: { lastResetAt: at.toISOString() },
    metadata: {
      removed: removed.length,
      fingerprints: removed.map((a) => a.fingerprint).sort(),
      via: opts.via,
      ...(opts.bypassCooldown ? { bypassedCooldown: true } : {}),
      ...(opts.requestId ? { requestId: opts.requestId } : {}),
    },
  });
  await emitActivationEvent(tx, "activation.deleted", row.id, removed, { reason: "reset" });
  return { row: after!, removed, lastResetAt: at, nextAllowedResetAt: nextAllowedAfterReset(at, cooldownDays) };
}
