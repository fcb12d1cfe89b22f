import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { activations, customers, licenses, plans, products, resetRequests, type ResetRequestStatus } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { queueEmail } from "@/server/domain/mail/queue";
import { env } from "@/server/env";
import { isUuid } from "./list";
import { resetAllDevices, resetWindow } from "./self-reset";

/**
 * Manual reset requests: a customer inside the reset cooldown asks the operator for a reset. The request and
 * the operators' emails (one per ADMIN_EMAILS address, through the outbox) commit together. The admin app lists
 * open requests; Approve resets all devices bypassing the cooldown (self-reset.ts) and emails the customer,
 * Dismiss closes the request. Each step is audited on the license.
 */

export const PortalResetRequestInput = z.object({
  licenseId: z.uuid(),
  /** Optional words for the operator ("my laptop was stolen"). */
  message: storableText(0, 500).optional(),
});
export const ResetRequestIdInput = z.object({ id: z.uuid() });
export const ListResetRequestsInput = z.object({
  status: z.enum(["open", "approved", "dismissed"]).default("open"),
  licenseId: z.uuid().optional(),
});

export type ResetRequestView = {
  id: string;
  status: ResetRequestStatus;
  licenseId: string;
  keyHint: string;
  productName: string;
  planName: string;
  customerId: string;
  customerEmail: string;
  message: string | null;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  lastResetAt: string | null;
  devices: number;
};

const licenseNotFound = () => new AppError("NOT_FOUND", "You have no license with that id.");

/**
 * The customer's request for a manual reset of one of their own licenses. Only inside the cooldown (outside
 * it they reset themselves). A second request while one is open answers that one and emails no one again.
 */
export async function requestManualReset(
  tx: Tx,
  actor: Actor,
  input: { licenseId: string; customerIds: string[]; message?: string; at: Date },
): Promise<{ requestId: string; created: boolean; notified: number }> {
  if (input.customerIds.length === 0) throw licenseNotFound();
  const [found] = await tx
    .select({
      id: licenses.id,
      customerId: licenses.customerId,
      status: licenses.status,
      lastResetAt: licenses.lastResetAt,
      cooldownDays: plans.resetCooldownDays,
    })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .where(and(eq(licenses.id, input.licenseId), inArray(licenses.customerId, input.customerIds)))
    .for("update", { of: licenses });
  if (!found) throw licenseNotFound();
  if (found.status === "revoked") throw new AppError("INVALID_STATE", "A revoked license cannot be reset.", { status: found.status });
  const w = resetWindow(found.lastResetAt, found.cooldownDays, input.at);
  if (!w.nextAllowedAt) {
    throw new AppError("INVALID_STATE", "You can reset this license's devices yourself now; no request is needed.");
  }

  const [created] = await tx
    .insert(resetRequests)
    .values({ licenseId: found.id, customerId: found.customerId, message: input.message?.trim() || null, createdAt: input.at })
    .onConflictDoNothing()
    .returning({ id: resetRequests.id });
  if (!created) {
    const [open] = await tx
      .select({ id: resetRequests.id })
      .from(resetRequests)
      .where(and(eq(resetRequests.licenseId, found.id), eq(resetRequests.status, "open")));
    return { requestId: open!.id, created: false, notified: 0 };
  }

  let notified = 0;
  for (const to of env().ADMIN_EMAILS) {
    const outboxId = await queueEmail(tx, {
      dedupeKey: `reset-requested:${created.id}:${to}`,
      template: "reset-requested",
      to,
      props: { requestId: created.id },
    });
    if (outboxId) notified++;
  }
  await recordAudit(tx, actor, {
    action: "license.reset_requested",
    subjectType: "license",
    subjectId: found.id,
    metadata: { requestId: created.id, notified, nextAllowedAt: w.nextAllowedAt.toISOString() },
  });
  return { requestId: created.id, created: true, notified };
}

const requestColumns = {
  id: resetRequests.id,
  status: resetRequests.status,
  licenseId: resetRequests.licenseId,
  keyHint: licenses.keyHint,
  productName: products.name,
  planName: plans.name,
  customerId: resetRequests.customerId,
  customerEmail: customers.email,
  message: resetRequests.message,
  createdAt: resetRequests.createdAt,
  decidedAt: resetRequests.decidedAt,
  decidedBy: resetRequests.decidedBy,
  lastResetAt: licenses.lastResetAt,
  devices: sql<number>`(select count(*)::int from ${activations} where ${activations.licenseId} = ${resetRequests.licenseId})`,
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toView(r: Awaited<ReturnType<typeof selectRequests>>[number]): ResetRequestView {
  return { ...r, createdAt: r.createdAt.toISOString(), decidedAt: iso(r.decidedAt), lastResetAt: iso(r.lastResetAt) };
}

function selectRequests(db: DbOrTx) {
  return db
    .select(requestColumns)
    .from(resetRequests)
    .innerJoin(licenses, eq(licenses.id, resetRequests.licenseId))
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .innerJoin(customers, eq(customers.id, resetRequests.customerId));
}

/** For the admin app: open requests oldest first (the queue); decided ones newest first. At most 200. */
export async function listResetRequests(db: DbOrTx, input: z.infer<typeof ListResetRequestsInput>): Promise<ResetRequestView[]> {
  const where = [eq(resetRequests.status, input.status)];
  if (input.licenseId) where.push(eq(resetRequests.licenseId, input.licenseId));
  const rows = await selectRequests(db)
    .where(and(...where))
    .orderBy(input.status === "open" ? asc(resetRequests.createdAt) : desc(resetRequests.decidedAt))
    .limit(200);
  return rows.map(toView);
}

export async function loadResetRequest(db: DbOrTx, id: string): Promise<ResetRequestView | null> {
  if (!isUuid(id)) return null;
  const [row] = await selectRequests(db).where(eq(resetRequests.id, id));
  return row ? toView(row) : null;
}

async function lockOpenRequest(tx: Tx, id: string) {
  const notFound = () => new AppError("NOT_FOUND", "There is no reset request with that id.");
  if (!isUuid(id)) throw notFound();
  const [req] = await tx.select().from(resetRequests).where(eq(resetRequests.id, id)).for("update");
  if (!req) throw notFound();
  if (req.status !== "open") throw new AppError("INVALID_STATE", `This request was already ${req.status}.`, { status: req.status });
  return req;
}

/**
 * One click in the admin app: every device is reset (the cooldown does not apply: the operator decided), the
 * request is closed and the customer is owed the devices-reset email, all in one transaction.
 */
export async function approveResetRequest(tx: Tx, actor: Actor, input: { id: string; adminEmail: string; at: Date }) {
  const req = await lockOpenRequest(tx, input.id);
  const result = await resetAllDevices(tx, { id: req.licenseId }, actor, input.at, { bypassCooldown: true, via: "request", requestId: req.id });
  await tx
    .update(resetRequests)
    .set({ status: "approved", decidedAt: input.at, decidedBy: input.adminEmail })
    .where(eq(resetRequests.id, req.id));
  const [c] = await tx.select({ email: customers.email }).from(customers).where(eq(customers.id, req.customerId));
  const outboxId = await queueEmail(tx, {
    dedupeKey: `devices-reset:${req.id}`,
    template: "devices-reset",
    to: c!.email,
    customerId: req.customerId,
    props: { licenseId: req.licenseId, removed: result.removed.length },
  });
  await recordAudit(tx, actor, {
    action: "license.reset_request_approved",
    subjectType: "license",
    subjectId: req.licenseId,
    metadata: { requestId: req.id, removed: result.removed.length, outboxId },
  });
  return { request: (await loadResetRequest(tx, req.id))!, removed: result.removed.length };
}

/** Closes the request without a reset (no email: the operator answers the customer in their own words). */
export async function dismissResetRequest(tx: Tx, actor: Actor, input: { id: string; adminEmail: string; at: Date }) {
  const req = await lockOpenRequest(tx, input.id);
  await tx
    .update(resetRequests)
    .set({ status: "dismissed", decidedAt: input.at, decidedBy: input.adminEmail })
    .where(eq(resetRequests.id, req.id));
  await recordAudit(tx, actor, {
    action: "license.reset_request_dismissed",
    subjectType: "license",
    subjectId: req.licenseId,
    metadata: { requestId: req.id },
  });
  return { request: (await loadResetRequest(tx, req.id))! };
}
