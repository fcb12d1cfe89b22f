import crypto from "node:crypto";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { LicenseKeyRotatedEmailProps } from "@/emails/license-key-rotated";
import type { TemplateProps } from "@/emails";
import { activations, customers, licenses, plans, products } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { queueEmail } from "@/server/domain/mail/queue";
import { emitActivationEvent, emitLicenseEvent } from "@/server/domain/webhooks/emit";
import { env } from "@/server/env";
import type { LicenseRow } from "./issue";
import { revealLicenseKey } from "./license-key";
import { notifyPlanChanged, rotateLicenseKey } from "./lifecycle";
import { fitActivationsToSeats, removedMetadata } from "./seats";
import { isUuid } from "./list";
import { assertKeyMayBeSent } from "./resend";
import { loadLicenseView, type LicenseWithCustomer } from "./view";

/**
 * License actions the admin app has beyond lifecycle.ts (which the management API shares): move to another
 * plan, free one machine's seat, send the license email again, and rotate the key with the new key emailed.
 * Each runs in the caller's transaction, locks the license row first (so it serialises with activations and
 * Stripe events on the same license) and writes its audit row there.
 */

export const ChangePlanInput = z.strictObject({
  /** Slug of the plan to move to (same product). */
  plan: storableText(1, 64),
  /** Activations allowed from now on; default: keep the license's current number. */
  seats: z.number().int().min(1).max(1_000_000).optional(),
});
export type ChangePlanInput = z.infer<typeof ChangePlanInput>;

export const DeactivateActivationInput = z.strictObject({ activationId: z.string().min(1).max(100) });
export type DeactivateActivationInput = z.infer<typeof DeactivateActivationInput>;

const notFound = () => new AppError("NOT_FOUND", "There is no license with that id.");

async function lockLicense(tx: Tx, id: string): Promise<LicenseRow> {
  if (!isUuid(id)) throw notFound();
  const [row] = await tx.select().from(licenses).where(eq(licenses.id, id)).for("update");
  if (!row) throw notFound();
  return row;
}

/**
 * Moves a license to another plan of the same product: entitlements, grace days and token lifetime follow the
 * new plan; expiry stays; seats below the machines activated free the least recently seen (seats.ts); the
 * customer is emailed what changed. A plan of another product is refused, since
 * client software checks the product.
 * A Stripe subscription keeps its own price: its next change moves the license again.
 */
export async function changeLicensePlan(tx: Tx, actor: Actor, id: string, input: ChangePlanInput) {
  const row = await lockLicense(tx, id);
  if (row.status === "revoked") throw new AppError("INVALID_STATE", "A revoked license cannot be changed.", { status: row.status });

  const [from] = await tx.select().from(plans).where(eq(plans.id, row.planId));
  const [to] = await tx.select().from(plans).where(eq(plans.slug, input.plan));
  if (!to) throw new AppError("PLAN_NOT_FOUND", `There is no plan "${input.plan}".`);
  if (to.id === row.planId) throw new AppError("INVALID_STATE", `The license is already on the plan "${to.slug}".`);
  if (to.archivedAt) throw new AppError("INVALID_STATE", `The plan "${to.slug}" is retired.`);
  if (to.productId !== from!.productId) {
    throw new AppError("INVALID_STATE", "A license can only move to a plan of the same product: client software checks the product.");
  }

  const seats = input.seats ?? row.maxActivations;
  const [after] = await tx
    .update(licenses)
    .set({ planId: to.id, maxActivations: seats, updatedAt: now() })
    .where(eq(licenses.id, id))
    .returning();
  const removed = await fitActivationsToSeats(tx, id, seats);
  await recordAudit(tx, actor, {
    action: "license.plan_changed",
    subjectType: "license",
    subjectId: id,
    before: { plan: from!.slug, maxActivations: row.maxActivations },
    after: { plan: to.slug, maxActivations: after!.maxActivations },
    metadata: removedMetadata(removed),
  });
  await notifyPlanChanged(tx, after!, { fromPlanId: from!.id, previousSeats: row.maxActivations });
  await emitActivationEvent(tx, "activation.deleted", id, removed, { reason: "seats" });
  await emitLicenseEvent(tx, "license.updated", id, { changed: seats !== row.maxActivations ? ["plan", "seats"] : ["plan"] });
  return { row: after! };
}

/** Frees one machine's seat (the admin's twin of the public deactivate route); allowed whatever the status. */
export async function deactivateActivation(tx: Tx, actor: Actor, licenseId: string, input: DeactivateActivationInput) {
  const row = await lockLicense(tx, licenseId);
  const [removed] = isUuid(input.activationId)
    ? await tx
        .delete(activations)
        .where(and(eq(activations.id, input.activationId), eq(activations.licenseId, licenseId)))
        .returning()
    : [];
  if (!removed) throw new AppError("NOT_FOUND", "That device is not activated on this license.");
  await emitActivationEvent(tx, "activation.deleted", licenseId, [removed], { reason: "deactivated" });
  await recordAudit(tx, actor, {
    action: "activation.deleted",
    subjectType: "license",
    subjectId: licenseId,
    before: { activationId: removed.id, fingerprint: removed.fingerprint, name: removed.name, platform: removed.platform },
  });
  return { row };
}

async function customerEmail(tx: DbOrTx, customerId: string) {
  const [c] = await tx.select({ email: customers.email }).from(customers).where(eq(customers.id, customerId));
  return c!.email;
}

/** Owes the customer the license email again (with the current key). A new outbox row each time it is asked. */
export async function resendLicenseEmail(tx: Tx, actor: Actor, id: string) {
  const row = await lockLicense(tx, id);
  assertKeyMayBeSent(row);
  const to = await customerEmail(tx, row.customerId);
  const outboxId = await queueEmail(tx, {
    dedupeKey: `license-issued:resend:${id}:${crypto.randomUUID()}`,
    template: "license-issued",
    to,
    customerId: row.customerId,
    props: { licenseIds: [id] },
  });
  await recordAudit(tx, actor, {
    action: "license.email_resent",
    subjectType: "license",
    subjectId: id,
    metadata: { outboxId, to },
  });
  return { row, outboxId: outboxId!, to };
}

/**
 * Replaces a compromised key: the old key stops working when this commits, and the customer is owed an email
 * with the new one (both in lifecycle's rotateLicenseKey). Returns the new key: the admin sees it once.
 */
export async function rotateLicenseKeyAndNotify(
  tx: Tx,
  actor: Actor,
  id: string,
): Promise<{ license: LicenseWithCustomer; key: string; outboxId: string }> {
  const { key, outboxId } = await rotateLicenseKey(tx, actor, id, {});
  return { license: (await loadLicenseView(tx, id))!, key, outboxId };
}

/** What the license-key-rotated email shows, resolved at send time; a reason string when it can never be sent. */
export async function rotatedKeyEmailProps(
  tx: DbOrTx,
  props: TemplateProps["license-key-rotated"],
): Promise<{ ok: true; props: LicenseKeyRotatedEmailProps } | { ok: false; reason: string }> {
  const [found] = await tx
    .select({
      keyCiphertext: licenses.keyCiphertext,
      status: licenses.status,
      seats: licenses.maxActivations,
      productName: products.name,
      planName: plans.name,
    })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(licenses.id, props.licenseId));
  if (!found) return { ok: false, reason: `License ${props.licenseId} no longer exists.` };
  if (found.status === "revoked") return { ok: false, reason: `License ${props.licenseId} was revoked before the email went out.` };
  let key: string;
  try {
    key = revealLicenseKey(found.keyCiphertext);
  } catch {
    return { ok: false, reason: `The key of license ${props.licenseId} cannot be decrypted (was AUTH_SECRET changed?).` };
  }
  return {
    ok: true,
    props: {
      appUrl: env().APP_URL,
      productName: found.productName,
      planName: found.planName,
      licenseKey: key,
      previousKeyHint: props.previousKeyHint,
      seats: found.seats,
    },
  };
}
