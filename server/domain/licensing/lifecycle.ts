import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { customers, licenses, plans, type LicenseStatus } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { queueEmail } from "@/server/domain/mail/queue";
import { emitActivationEvent, emitLicenseEvent } from "@/server/domain/webhooks/emit";
import { isLapsed } from "./expiry";
import { generateLicenseKey, sealLicenseKey } from "./license-key";
import { fitActivationsToSeats, removedMetadata } from "./seats";
import { resetAllDevices } from "./self-reset";
import type { LicenseRow } from "./issue";
import { isUuid } from "./list";
import { futureInstant, Instant } from "./manual";
import { loadLicenseView, type LicenseWithCustomer } from "./view";

/**
 * What an admin can do to an existing license. Each action runs in the caller's transaction: it locks the
 * license row (so it serialises with activations and Stripe events touching the same license), checks the
 * transition, writes the change and its audit row.
 *
 * Transitions:
 *   suspend    active | past_due | expired -> suspended
 *   reinstate  suspended -> active (or expired, when the expiry plus the plan's grace days has passed)
 *   revoke     anything but revoked -> revoked
 *   extend     sets expiresAt (future or null = perpetual); an expired license becomes active again
 *   others     (reset-activations, rotate-key, change-seats) keep the status; seats lowered below the machines
 *              activated free the least recently seen ones (seats.ts, the rule a Stripe downgrade follows too)
 * Revoked is final: a revoked license accepts no further action (409 INVALID_STATE). Issue a new one instead.
 * Suspend, revoke and reinstate also owe the customer a license-status-changed email (with the reason), queued
 * in the same transaction.
 */

// One schema object per action (no aliases), so each gets its own name in the OpenAPI document.
const Reason = storableText(1, 500);
/** The body may be omitted; then it reads as {}. */
const noInput = () => z.strictObject({});

export const SuspendLicenseInput = z.strictObject({ reason: Reason.optional() });
export const ReinstateLicenseInput = noInput();
export const RevokeLicenseInput = z.strictObject({ reason: Reason.optional() });
export const ExtendLicenseInput = z.strictObject({ expiresAt: Instant.nullable() });
export const ResetActivationsInput = noInput();
export const RotateKeyInput = noInput();
export const ChangeSeatsInput = z.strictObject({ seats: z.number().int().min(1).max(1_000_000) });

const notFound = () => new AppError("NOT_FOUND", "There is no license with that id.");

type Locked = { row: LicenseRow; graceDays: number };

/** The license row, locked FOR UPDATE until the transaction ends; 404 for unknown or malformed ids. */
async function lockLicense(tx: Tx, id: string): Promise<Locked> {
  if (!isUuid(id)) throw notFound();
  const [found] = await tx
    .select({ row: licenses, graceDays: plans.graceDays })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .where(eq(licenses.id, id))
    .for("update", { of: licenses });
  if (!found) throw notFound();
  return found;
}

const snapshot = (l: LicenseRow) => ({
  status: l.status,
  statusReason: l.statusReason,
  expiresAt: l.expiresAt ? l.expiresAt.toISOString() : null,
  maxActivations: l.maxActivations,
  keyHint: l.keyHint,
});

function refuse(l: LicenseRow, action: string): never {
  throw new AppError("INVALID_STATE", `A ${l.status} license cannot be ${action}.`, { status: l.status });
}

function assertNotRevoked(l: LicenseRow, action: string) {
  if (l.status === "revoked") refuse(l, action);
}

async function update(tx: Tx, id: string, set: Partial<typeof licenses.$inferInsert>): Promise<LicenseRow> {
  const [row] = await tx
    .update(licenses)
    .set({ ...set, updatedAt: now() })
    .where(eq(licenses.id, id))
    .returning();
  return row!;
}

async function audit(tx: Tx, actor: Actor, action: string, before: LicenseRow, after: LicenseRow, metadata?: Record<string, unknown>) {
  await recordAudit(tx, actor, {
    action,
    subjectType: "license",
    subjectId: before.id,
    before: snapshot(before),
    after: snapshot(after),
    metadata,
  });
}

export async function suspendLicense(tx: Tx, actor: Actor, id: string, input: z.infer<typeof SuspendLicenseInput>) {
  const { row } = await lockLicense(tx, id);
  if (row.status === "suspended" || row.status === "revoked") refuse(row, "suspended");
  const after = await update(tx, id, { status: "suspended", statusReason: input.reason ?? null });
  await audit(tx, actor, "license.suspended", row, after);
  await emitLicenseEvent(tx, "license.suspended", id, { reason: input.reason ?? null });
  await notifyStatusChanged(tx, after, { status: "suspended", reason: input.reason ?? null });
  return { row: after };
}

export async function reinstateLicense(tx: Tx, actor: Actor, id: string, _input: z.infer<typeof ReinstateLicenseInput>) {
  const { row, graceDays } = await lockLicense(tx, id);
  if (row.status !== "suspended") refuse(row, "reinstated");
  // The status before the suspension is not kept: a past_due subscription goes back to active, and Stripe's
  // next failed payment marks it past_due again.
  const status: LicenseStatus = isLapsed(row.expiresAt, graceDays, now()) ? "expired" : "active";
  const after = await update(tx, id, { status, statusReason: null });
  await audit(tx, actor, "license.reinstated", row, after);
  // data.license.status says where it landed: active, or expired when its time ran out while suspended.
  await emitLicenseEvent(tx, "license.reinstated", id);
  // Reinstated straight into "expired" (its time ran out while suspended): "works again" would be untrue.
  if (status === "active") await notifyStatusChanged(tx, after, { status: "reinstated", reason: null });
  return { row: after };
}

export async function revokeLicense(tx: Tx, actor: Actor, id: string, input: z.infer<typeof RevokeLicenseInput>) {
  const { row } = await lockLicense(tx, id);
  assertNotRevoked(row, "revoked");
  const after = await update(tx, id, { status: "revoked", statusReason: input.reason ?? null });
  await audit(tx, actor, "license.revoked", row, after);
  await emitLicenseEvent(tx, "license.revoked", id, { reason: input.reason ?? null });
  await notifyStatusChanged(tx, after, { status: "revoked", reason: input.reason ?? null });
  return { row: after };
}

export async function extendLicense(tx: Tx, actor: Actor, id: string, input: z.infer<typeof ExtendLicenseInput>) {
  const expiresAt = futureInstant(input.expiresAt)!;
  const { row } = await lockLicense(tx, id);
  assertNotRevoked(row, "extended");
  // The new expiry is in the future (or never), so an expired license works again; suspended and past_due
  // keep their status: the admin or Stripe decides those.
  const status: LicenseStatus = row.status === "expired" ? "active" : row.status;
  const after = await update(tx, id, { expiresAt, status });
  await audit(tx, actor, "license.extended", row, after);
  await emitLicenseEvent(tx, "license.updated", id, { changed: status !== row.status ? ["expiresAt", "status"] : ["expiresAt"] });
  return { row: after };
}

/**
 * The operator's "remove every activation": the one reset rule (self-reset.ts) without the cooldown. It sets
 * last_reset_at like a self-service reset, so the customer's next self-service reset waits one cooldown from it.
 */
export async function resetActivations(tx: Tx, actor: Actor, id: string, _input: z.infer<typeof ResetActivationsInput>) {
  const { row } = await resetAllDevices(tx, { id }, actor, now(), {
    bypassCooldown: true,
    via: actor.type === "api_token" ? "api" : "admin",
  });
  return { row };
}

export async function rotateLicenseKey(tx: Tx, actor: Actor, id: string, _input: z.infer<typeof RotateKeyInput>) {
  const { row } = await lockLicense(tx, id);
  assertNotRevoked(row, "given a new key");
  const key = generateLicenseKey();
  // Replacing the hash is what makes the old key stop working: lookups go by hash only.
  const after = await update(tx, id, { ...sealLicenseKey(key) });
  await audit(tx, actor, "license.key_rotated", row, after);
  // The new key is never in a webhook: receivers learn that it changed, the customer gets it by email.
  await emitLicenseEvent(tx, "license.key_rotated", id);
  // Whoever rotates (the admin app, the management API), the customer is owed the new key.
  const outboxId = await queueEmail(tx, {
    // One email per rotation; the key itself is read at send time, so it is always the newest one.
    dedupeKey: `license-key-rotated:${id}:${crypto.randomUUID()}`,
    template: "license-key-rotated",
    to: await customerEmail(tx, row.customerId),
    customerId: row.customerId,
    props: { licenseId: id, previousKeyHint: row.keyHint },
  });
  return { row: after, key, outboxId: outboxId! };
}

export async function changeSeats(tx: Tx, actor: Actor, id: string, input: z.infer<typeof ChangeSeatsInput>) {
  const { row } = await lockLicense(tx, id);
  assertNotRevoked(row, "changed");
  const after = await update(tx, id, { maxActivations: input.seats });
  // Fewer seats than machines: seats.ts decides which machines stay, as for a Stripe downgrade.
  const removed = await fitActivationsToSeats(tx, id, input.seats);
  await audit(tx, actor, "license.seats_changed", row, after, removedMetadata(removed));
  await emitActivationEvent(tx, "activation.deleted", id, removed, { reason: "seats" });
  await emitLicenseEvent(tx, "license.updated", id, { changed: ["seats"] });
  return { row: after };
}

async function customerEmail(tx: Tx, customerId: string): Promise<string> {
  const [c] = await tx.select({ email: customers.email }).from(customers).where(eq(customers.id, customerId));
  return c!.email;
}

/**
 * Owes the customer the license-status-changed email, in the caller's transaction. The reason is stored with
 * the email (it is what the customer reads, not a secret). Each change is its own email: pass a `dedupeKey`
 * only when the change itself may be applied twice (e.g. one per Stripe dispute event).
 */
export async function notifyStatusChanged(
  tx: Tx,
  license: Pick<LicenseRow, "id" | "customerId">,
  change: { status: "suspended" | "revoked" | "reinstated"; reason: string | null; dedupeKey?: string },
) {
  return queueEmail(tx, {
    dedupeKey: change.dedupeKey ?? `license-status-changed:${license.id}:${change.status}:${crypto.randomUUID()}`,
    template: "license-status-changed",
    to: await customerEmail(tx, license.customerId),
    customerId: license.customerId,
    props: { licenseId: license.id, status: change.status, reason: change.reason },
  });
}

/**
 * Owes the customer the plan-changed email after a license moved to another plan (by an admin, or by a
 * Stripe subscription changing price), in the caller's transaction.
 */
export async function notifyPlanChanged(
  tx: Tx,
  license: Pick<LicenseRow, "id" | "customerId" | "planId">,
  change: { fromPlanId: string; previousSeats?: number | null; dedupeKey?: string },
) {
  return queueEmail(tx, {
    dedupeKey: change.dedupeKey ?? `plan-changed:${license.id}:${change.fromPlanId}:${license.planId}:${crypto.randomUUID()}`,
    template: "plan-changed",
    to: await customerEmail(tx, license.customerId),
    customerId: license.customerId,
    props: {
      licenseId: license.id,
      fromPlanId: change.fromPlanId,
      toPlanId: license.planId,
      previousSeats: change.previousSeats ?? null,
    },
  });
}

type ActionResult = { row: LicenseRow; key?: string };

type LicenseAction<S extends z.ZodType> = {
  summary: string;
  input: S;
  /** True when the answer carries the new key. */
  returnsKey?: boolean;
  run: (tx: Tx, actor: Actor, id: string, input: z.infer<S>) => Promise<ActionResult>;
};

const action = <S extends z.ZodType>(a: LicenseAction<S>) => a;

/** The actions of POST /api/v1/admin/licenses/{id}/{action}, by their URL name. */
export const LICENSE_ACTIONS = {
  suspend: action({ summary: "Suspend a license (it stops validating until reinstated)", input: SuspendLicenseInput, run: suspendLicense }),
  reinstate: action({ summary: "Reinstate a suspended license", input: ReinstateLicenseInput, run: reinstateLicense }),
  revoke: action({ summary: "Revoke a license for good (revoked is final)", input: RevokeLicenseInput, run: revokeLicense }),
  extend: action({ summary: "Set a new expiry (null: perpetual)", input: ExtendLicenseInput, run: extendLicense }),
  "reset-activations": action({ summary: "Remove every activation", input: ResetActivationsInput, run: resetActivations }),
  "rotate-key": action({
    summary: "Replace the key; the old key stops working at once",
    input: RotateKeyInput,
    returnsKey: true,
    run: rotateLicenseKey,
  }),
  "change-seats": action({
    summary: "Change the number of activations allowed (below the machines activated: the least recently seen are removed)",
    input: ChangeSeatsInput,
    run: changeSeats,
  }),
} as const;

export type LicenseActionName = keyof typeof LICENSE_ACTIONS;

export function licenseAction(name: string) {
  return Object.hasOwn(LICENSE_ACTIONS, name)
    ? (LICENSE_ACTIONS[name as LicenseActionName] as LicenseAction<z.ZodType>)
    : null;
}

/** Runs an action by name and answers with the license as the API shows it (and the new key, for rotate-key). */
export async function applyLicenseAction(
  tx: Tx,
  actor: Actor,
  id: string,
  name: string,
  rawInput: unknown,
): Promise<{ license: LicenseWithCustomer; key?: string }> {
  const act = licenseAction(name);
  if (!act) throw new AppError("NOT_FOUND", `There is no license action "${name}".`);
  const result = await act.run(tx, actor, id, act.input.parse(rawInput));
  const license = (await loadLicenseView(tx, result.row.id))!;
  return result.key === undefined ? { license } : { license, key: result.key };
}
