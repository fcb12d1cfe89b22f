import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { emitActivationEvent } from "@/server/domain/webhooks/emit";
import { removedColumns } from "./seats";
import { z } from "zod";
import { activations, customers, licenses, plans, products, resetRequests, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { queueEmail } from "@/server/domain/mail/queue";
import { displayHint, revealLicenseKey } from "./license-key";
import { assertKeyMayBeSent } from "./resend";
import { effectiveStatus } from "./expiry";
import { resetAllDevices, resetWindow } from "./self-reset";

/**
 * What a signed-in customer may see and do with their own licenses (the portal). Every function takes the
 * customer's ids from the session (their own, and the addresses they have proven: portal/confirmations.ts
 * portalCustomerIds) and filters by them: a license or activation of someone else is "not found", exactly like
 * one that does not exist, so ids cannot be probed.
 */

export const PortalLicenseInput = z.object({ licenseId: z.uuid() });
export const PortalActivationInput = z.object({ activationId: z.uuid() });

export type PortalActivation = {
  id: string;
  fingerprint: string;
  name: string | null;
  platform: string | null;
  createdAt: string;
  lastSeenAt: string;
  /** Made by an activation file; removing it frees the seat, but the machine runs until the file expires. */
  airGapped: boolean;
};

export type PortalLicense = {
  id: string;
  /** The address it was bought with (the signed-in one, or one the customer has proven). */
  email: string;
  productName: string;
  planName: string;
  /** The status the client software sees (expired as soon as expiry plus grace has passed). */
  status: LicenseStatus;
  /** Why it is suspended or revoked, in words meant for the customer. */
  statusReason: string | null;
  expiresAt: string | null;
  autoRenews: boolean;
  maxActivations: number;
  /** "•••••-…-ABCDE": enough to tell keys apart; the key itself comes from revealCustomerLicenseKey. */
  keyHint: string;
  entitlements: string[];
  createdAt: string;
  activations: PortalActivation[];
  /** The plan offers activation files (airGappedTtlDays set) and the license may take one now. */
  activationFiles: boolean;
  /** Self-service "reset all devices" (self-reset.ts): the cooldown, the last reset, when the next is allowed. */
  reset: PortalResetState;
};

export type PortalResetState = {
  cooldownDays: number;
  lastResetAt: string | null;
  /** Null: a reset is allowed now. */
  nextAllowedAt: string | null;
  /** When the customer's open manual-reset request was made, if one waits for the operator. */
  requestedAt: string | null;
};

export const customerActor = (customerId: string | null): Actor => ({ type: "customer", id: customerId });

const licenseNotFound = () => new AppError("NOT_FOUND", "You have no license with that id.");

/** The customer's licenses, newest first, with their activations. No customer ids: simply none. */
export async function listCustomerLicenses(db: DbOrTx, customerIds: string[]): Promise<PortalLicense[]> {
  if (customerIds.length === 0) return [];
  const rows = await db
    .select({
      id: licenses.id,
      email: customers.email,
      productName: products.name,
      planName: plans.name,
      status: licenses.status,
      statusReason: licenses.statusReason,
      expiresAt: licenses.expiresAt,
      graceDays: plans.graceDays,
      autoRenews: licenses.autoRenews,
      maxActivations: licenses.maxActivations,
      keyHint: licenses.keyHint,
      entitlements: plans.entitlements,
      createdAt: licenses.createdAt,
      airGappedTtlDays: plans.airGappedTtlDays,
      lastResetAt: licenses.lastResetAt,
      resetCooldownDays: plans.resetCooldownDays,
    })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .where(inArray(licenses.customerId, customerIds))
    .orderBy(desc(licenses.createdAt), desc(licenses.id));
  if (rows.length === 0) return [];

  const acts = await db
    .select()
    .from(activations)
    .where(inArray(activations.licenseId, rows.map((r) => r.id)))
    .orderBy(asc(activations.createdAt));
  const byLicense = new Map<string, PortalActivation[]>();
  for (const a of acts) {
    const list = byLicense.get(a.licenseId) ?? [];
    list.push({
      id: a.id,
      fingerprint: a.fingerprint,
      name: a.name,
      platform: a.platform,
      createdAt: a.createdAt.toISOString(),
      lastSeenAt: a.lastSeenAt.toISOString(),
      airGapped: a.airGapped,
    });
    byLicense.set(a.licenseId, list);
  }

  const openRequests = await db
    .select({ licenseId: resetRequests.licenseId, createdAt: resetRequests.createdAt })
    .from(resetRequests)
    .where(and(inArray(resetRequests.licenseId, rows.map((r) => r.id)), eq(resetRequests.status, "open")));
  const requestedAt = new Map(openRequests.map((q) => [q.licenseId, q.createdAt.toISOString()]));

  const at = now();
  return rows.map((r) => {
    const status = effectiveStatus(r, at);
    return {
      id: r.id,
      email: r.email,
      productName: r.productName,
      planName: r.planName,
      status,
      statusReason: r.statusReason,
      expiresAt: r.expiresAt ? r.expiresAt.toISOString() : null,
      autoRenews: r.autoRenews,
      maxActivations: r.maxActivations,
      keyHint: displayHint(r.keyHint),
      entitlements: r.entitlements,
      createdAt: r.createdAt.toISOString(),
      activations: byLicense.get(r.id) ?? [],
      activationFiles: r.airGappedTtlDays !== null && (status === "active" || status === "past_due"),
      reset: {
        cooldownDays: r.resetCooldownDays,
        lastResetAt: r.lastResetAt ? r.lastResetAt.toISOString() : null,
        nextAllowedAt: resetWindow(r.lastResetAt, r.resetCooldownDays, at).nextAllowedAt?.toISOString() ?? null,
        requestedAt: requestedAt.get(r.id) ?? null,
      },
    };
  });
}

function ownedLicense(db: DbOrTx, customerIds: string[], licenseId: string) {
  if (customerIds.length === 0) throw licenseNotFound();
  return db
    .select({ id: licenses.id, keyCiphertext: licenses.keyCiphertext, status: licenses.status, customerId: licenses.customerId })
    .from(licenses)
    .where(and(eq(licenses.id, licenseId), inArray(licenses.customerId, customerIds)));
}

async function found<T>(rows: Promise<T[]>): Promise<T> {
  const [row] = await rows;
  if (!row) throw licenseNotFound();
  return row;
}

/** The full key of one of the customer's own licenses (shown on click in the portal). */
export async function revealCustomerLicenseKey(
  db: DbOrTx,
  input: { licenseId: string; customerIds: string[] },
): Promise<{ key: string }> {
  const row = await found(ownedLicense(db, input.customerIds, input.licenseId));
  return { key: revealLicenseKey(row.keyCiphertext) };
}

/**
 * Frees a seat from the portal: the customer removes one of their own machines. Locks the license row first,
 * like activate and deactivate, so a seat count in progress never sees a half-finished change. Allowed in
 * any license status, like the public deactivate route.
 */
export async function deactivateActivationById(
  tx: Tx,
  actor: Actor,
  input: { activationId: string; customerIds: string[] },
): Promise<{ deactivated: true; licenseId: string }> {
  const notFound = () => new AppError("NOT_FOUND", "That device is not activated on any of your licenses.");
  if (input.customerIds.length === 0) throw notFound();
  const [target] = await tx
    .select({ licenseId: activations.licenseId })
    .from(activations)
    .innerJoin(licenses, eq(licenses.id, activations.licenseId))
    .where(and(eq(activations.id, input.activationId), inArray(licenses.customerId, input.customerIds)));
  if (!target) throw notFound();

  await tx.select({ id: licenses.id }).from(licenses).where(eq(licenses.id, target.licenseId)).for("update");
  const [removed] = await tx
    .delete(activations)
    .where(and(eq(activations.id, input.activationId), eq(activations.licenseId, target.licenseId)))
    .returning(removedColumns);
  // Gone between the check and the lock (the machine deactivated itself): same answer as never there.
  if (!removed) throw notFound();
  await recordAudit(tx, actor, {
    action: "activation.deleted",
    subjectType: "license",
    subjectId: target.licenseId,
    before: { activationId: removed.id, fingerprint: removed.fingerprint, name: removed.name, platform: removed.platform },
    metadata: { via: "portal" },
  });
  await emitActivationEvent(tx, "activation.deleted", target.licenseId, [removed], { reason: "deactivated" });
  return { deactivated: true, licenseId: target.licenseId };
}

/**
 * Sends the license email again (the key, to the customer's own address), under the rule the admin's resend
 * follows too (resend.ts: never a revoked key). At most one per license per minute: the dedupe key carries the
 * minute, so a double click or a script sends one email.
 */
export async function resendCustomerLicenseEmail(
  tx: Tx,
  actor: Actor,
  input: { licenseId: string; customerIds: string[]; email: string },
): Promise<{ queued: boolean }> {
  // Locked, as the admin's resend does, so a revoke committing meanwhile waits and the check below holds.
  const license = await found(ownedLicense(tx, input.customerIds, input.licenseId).for("update"));
  assertKeyMayBeSent(license);
  const minute = Math.floor(now().getTime() / 60_000);
  const outboxId = await queueEmail(tx, {
    dedupeKey: `license-resent:${input.licenseId}:${minute}`,
    template: "license-issued",
    to: input.email,
    customerId: license.customerId,
    props: { licenseIds: [input.licenseId] },
  });
  if (outboxId) {
    await recordAudit(tx, actor, {
      action: "license.email_resent",
      subjectType: "license",
      subjectId: input.licenseId,
      metadata: { via: "portal", outboxId, to: input.email },
    });
  }
  return { queued: outboxId !== null };
}

/**
 * "Reset all devices" from the portal, for one of the customer's own licenses (someone else's is "not found"),
 * under the plan's cooldown (self-reset.ts). Answers when the next reset is allowed.
 */
export async function resetCustomerDevices(
  tx: Tx,
  actor: Actor,
  input: { licenseId: string; customerIds: string[] },
): Promise<{ removed: number; nextAllowedAt: string }> {
  await found(ownedLicense(tx, input.customerIds, input.licenseId));
  const result = await resetAllDevices(tx, { id: input.licenseId }, actor, now(), { via: "portal" });
  return { removed: result.removed.length, nextAllowedAt: result.nextAllowedResetAt.toISOString() };
}
