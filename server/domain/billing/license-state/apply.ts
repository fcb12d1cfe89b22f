import { eq, sql } from "drizzle-orm";
import { customers, licenses, plans, stripeLicenseStates, type LicenseStatus } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { isLapsed } from "@/server/domain/licensing/expiry";
import type { LicenseRow } from "@/server/domain/licensing/issue";
import { fitActivationsToSeats, removedMetadata } from "@/server/domain/licensing/seats";
import { emitActivationEvent, emitLicenseEvent } from "@/server/domain/webhooks/emit";
import {
  deriveLicenseState,
  followedItemId,
  isoOf,
  loadBillingFacts,
  subjectOf,
  type BillingFacts,
  type BillingSubject,
  type DerivedLicenseState,
} from "./derive";
import { queueLicenseEmails } from "./emails";

/**
 * Applying a derivation changes only what the derivation changed since the last time, so an admin's own suspension
 * or extension stands until Stripe's side moves again; revoked stays revoked. The clock enters only here, when a
 * status is applied: an active derivation past its expiry plus grace lands as expired.
 */

/**
 * The status a license takes from a derivation, or null to leave it: revoked stays revoked; a suspension that
 * Stripe did not cause (an admin's) stands; an active or past_due derivation past its expiry plus grace is expired.
 */
export function statusToApply(
  license: Pick<LicenseRow, "status" | "statusReason">,
  prev: DerivedLicenseState | null,
  next: DerivedLicenseState,
  expiresAt: Date | null,
  graceDays: number,
): { status: LicenseStatus; statusReason: string | null } | null {
  if (license.status === "revoked") {
    // Only the words of our own revocation follow the facts (a lost dispute outranks the refund that came first).
    return next.status === "revoked" && prev?.status === "revoked" ? { status: "revoked", statusReason: next.reason } : null;
  }
  if (next.status === "revoked") return { status: "revoked", statusReason: next.reason };
  if (license.status === "suspended" && prev && prev.status !== "suspended") return null;
  if (next.status === "suspended") return { status: "suspended", statusReason: next.reason };
  if (next.status === "expired") return { status: "expired", statusReason: null };
  return { status: isLapsed(expiresAt, graceDays, now()) ? "expired" : next.status, statusReason: null };
}

/** Derived fields that map straight onto license columns. */
const FIELDS = ["expiresAt", "cancelAt", "autoRenews", "trialEndsAt", "stripePriceId", "planId", "maxActivations"] as const;
type Field = (typeof FIELDS)[number];
const DATE_FIELDS = new Set<Field>(["expiresAt", "cancelAt", "trialEndsAt"]);

function columnValue(field: Field, v: unknown) {
  return DATE_FIELDS.has(field) ? (v ? new Date(v as string) : null) : v;
}
/** Compares a derived value (dates as ISO strings) with another derived value or a column value (dates as Date). */
function sameValue(field: Field, a: unknown, b: unknown) {
  const time = (v: unknown) => (v ? new Date(v as string | Date).getTime() : null);
  return DATE_FIELDS.has(field) ? time(a) === time(b) : a === b;
}

/** The column values a new license starts with under a derivation (issueLicense's `billing`). */
export function initialColumns(next: DerivedLicenseState, graceDays: number, fallbackExpiresAt: Date | null) {
  const expiresAt = next.expiresAt !== undefined ? columnValue("expiresAt", next.expiresAt) as Date | null : fallbackExpiresAt;
  const applied = statusToApply({ status: "active", statusReason: null }, null, next, expiresAt, graceDays)!;
  return {
    expiresAt,
    status: applied.status,
    statusReason: applied.statusReason,
    stripePriceId: next.stripePriceId,
    autoRenews: next.autoRenews ?? false,
    cancelAt: next.cancelAt ? new Date(next.cancelAt) : null,
    trialEndsAt: next.trialEndsAt ? new Date(next.trialEndsAt) : null,
  };
}

const auditSnapshot = (l: LicenseRow) => ({
  status: l.status,
  statusReason: l.statusReason,
  expiresAt: isoOf(l.expiresAt),
  planId: l.planId,
  maxActivations: l.maxActivations,
  stripePriceId: l.stripePriceId,
  autoRenews: l.autoRenews,
  cancelAt: isoOf(l.cancelAt),
  trialEndsAt: isoOf(l.trialEndsAt),
});

export type LicenseSync = {
  licenseId: string;
  /** License columns this sync changed. */
  changed: string[];
  status: LicenseStatus;
  expiresAt: string | null;
  before: { status: LicenseStatus; expiresAt: string | null; planId: string };
  removedActivations?: number;
  unboundPriceId?: string | null;
  emails: string[];
};

/**
 * Brings Stripe-sold licenses in line with the facts: each row locked, derived, changed where the derivation
 * moved, audited and emailed, in the caller's transaction (after it has taken the billing locks and saved the
 * facts it read). Licenses not sold through Stripe are left alone.
 */
export async function syncLicenses(tx: Tx, actor: Actor, licenseIds: string[]): Promise<LicenseSync[]> {
  const results: LicenseSync[] = [];
  for (const id of [...new Set(licenseIds)].sort()) {
    const r = await syncLicense(tx, actor, id);
    if (r) results.push(r);
  }
  return results;
}

async function syncLicense(tx: Tx, actor: Actor, licenseId: string): Promise<LicenseSync | null> {
  const [found] = await tx
    .select({ license: licenses, graceDays: plans.graceDays, email: customers.email })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .where(eq(licenses.id, licenseId))
    .for("update", { of: licenses });
  if (!found || found.license.source !== "stripe") return null;
  const before = found.license;
  const [state] = await tx.select().from(stripeLicenseStates).where(eq(stripeLicenseStates.licenseId, licenseId));
  const prev = (state?.derived as DerivedLicenseState | undefined) ?? null;

  const subject = subjectOf(before, state?.stripeSubscriptionItemId ?? null);
  const facts = await loadBillingFacts(tx, subject);
  const next = deriveLicenseState(subject, facts);
  if (prev && sameDerivation(prev, next)) {
    // Nothing to change, but a new fact may still owe a state email: a renewal invoice read after the
    // subscription update that already moved the expiry owes its receipt. The keys keep them once.
    const emails = await queueLicenseEmails(tx, { license: before, before, prev, next, facts, landing: false, version: state!.version, graceDays: found.graceDays, email: found.email });
    return summary(before, before, [], emails);
  }

  const set: Partial<typeof licenses.$inferInsert> = {};
  const changed: string[] = [];
  for (const field of FIELDS) {
    const v = next[field];
    if (v === undefined) continue;
    if (prev && sameValue(field, prev[field], v)) continue;
    if (sameValue(field, before[field], v)) continue;
    (set as Record<string, unknown>)[field] = columnValue(field, v);
    changed.push(field);
  }
  let graceDays = found.graceDays;
  if (set.planId) {
    const [plan] = await tx.select({ graceDays: plans.graceDays }).from(plans).where(eq(plans.id, set.planId));
    graceDays = plan?.graceDays ?? graceDays;
  }
  const expiresAt = (set.expiresAt !== undefined ? set.expiresAt : before.expiresAt) ?? null;
  let target: ReturnType<typeof statusToApply> = null;
  if (!prev || prev.status !== next.status || prev.cause !== next.cause) {
    target = statusToApply(before, prev, next, expiresAt, graceDays);
  } else if ((changed.includes("expiresAt") || changed.includes("planId")) && ["active", "past_due", "expired"].includes(before.status)) {
    // Only the expiry (or the grace days) moved: the clock decides again between working and expired, and
    // nothing else (an admin's reinstatement during a dispute stands through a renewal).
    if (next.status === "active" || next.status === "past_due") {
      target = { status: isLapsed(expiresAt, graceDays, now()) ? "expired" : next.status, statusReason: null };
    }
  }
  if (target && (target.status !== before.status || target.statusReason !== before.statusReason)) {
    set.status = target.status;
    set.statusReason = target.statusReason;
    changed.push("status");
  }

  let after = before;
  let removed: Awaited<ReturnType<typeof fitActivationsToSeats>> = [];
  if (changed.length) {
    [after] = await tx.update(licenses).set({ ...set, updatedAt: now() }).where(eq(licenses.id, licenseId)).returning() as [LicenseRow];
    if (set.maxActivations !== undefined) removed = await fitActivationsToSeats(tx, licenseId, set.maxActivations);
    await recordAudit(tx, actor, {
      action: "license.stripe_synced",
      subjectType: "license",
      subjectId: licenseId,
      before: auditSnapshot(before),
      after: auditSnapshot(after),
      metadata: { changed, cause: next.cause, ...removedMetadata(removed), ...(next.unboundPriceId ? { unboundPriceId: next.unboundPriceId } : {}) },
    });
    await emitActivationEvent(tx, "activation.deleted", licenseId, removed, { reason: "seats" });
    await emitSyncEvents(tx, before, after, changed);
  }
  const [saved] = await tx
    .insert(stripeLicenseStates)
    .values({ licenseId, stripeSubscriptionItemId: subject.subscriptionItemId ?? followedItemId(facts, subject), derived: next })
    .onConflictDoUpdate({
      target: stripeLicenseStates.licenseId,
      set: { derived: next, version: sql`${stripeLicenseStates.version} + 1`, updatedAt: now() },
    })
    .returning({ version: stripeLicenseStates.version });
  const emails = await queueLicenseEmails(tx, { license: after, before, prev, next, facts, landing: false, version: saved!.version, graceDays, email: found.email });
  return { ...summary(before, after, changed, emails), ...(removed.length ? { removedActivations: removed.length } : {}), unboundPriceId: next.unboundPriceId ?? null };
}

/**
 * The webhook events a sync's change reports: a status event (suspended, reinstated, revoked, expired), then
 * license.renewed when the expiry moved later while the license works, or license.updated naming what else of
 * the License shape changed (plan, seats, expiry, active <-> past_due). Billing-only fields (cancelAt, autoRenews,
 * the price) are not in the License shape and emit nothing on their own.
 */
async function emitSyncEvents(tx: Tx, before: LicenseRow, after: LicenseRow, changed: string[]) {
  const status = after.status !== before.status ? after.status : null;
  if (status === "suspended") await emitLicenseEvent(tx, "license.suspended", after.id, { reason: after.statusReason });
  else if (status === "revoked") await emitLicenseEvent(tx, "license.revoked", after.id, { reason: after.statusReason });
  else if (status === "expired") await emitLicenseEvent(tx, "license.expired", after.id);
  else if (status && before.status === "suspended") await emitLicenseEvent(tx, "license.reinstated", after.id);

  const working = after.status === "active" || after.status === "past_due";
  const later = changed.includes("expiresAt") && before.expiresAt !== null && after.expiresAt !== null && after.expiresAt > before.expiresAt;
  const fields = [
    ...(changed.includes("planId") ? ["plan"] : []),
    ...(changed.includes("maxActivations") ? ["seats"] : []),
    ...(changed.includes("expiresAt") ? ["expiresAt"] : []),
    // active <-> past_due has no event of its own (payment.failed reports the failure).
    ...(status && before.status !== "suspended" && (status === "active" || status === "past_due") ? ["status"] : []),
  ];
  if (later && working && !changed.includes("planId") && !changed.includes("maxActivations")) {
    await emitLicenseEvent(tx, "license.renewed", after.id, { previousExpiresAt: before.expiresAt!.toISOString() });
  } else if (fields.length) {
    await emitLicenseEvent(tx, "license.updated", after.id, { changed: fields });
  }
}

/** Field by field: the stored one comes back from jsonb with its keys in another order. */
function sameDerivation(a: DerivedLicenseState, b: DerivedLicenseState) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof DerivedLicenseState>;
  return [...keys].every((k) => (a[k] ?? null) === (b[k] ?? null));
}

function summary(before: LicenseRow, after: LicenseRow, changed: string[], emails: string[]): LicenseSync {
  return {
    licenseId: after.id,
    changed,
    status: after.status,
    expiresAt: isoOf(after.expiresAt),
    before: { status: before.status, expiresAt: isoOf(before.expiresAt), planId: before.planId },
    emails,
  };
}

/** Records the first derivation of a license issued from Stripe facts (checkout), and its state emails. */
export async function recordLanding(
  tx: Tx,
  license: LicenseRow,
  subject: BillingSubject,
  next: DerivedLicenseState,
  facts: BillingFacts,
  ctx: { graceDays: number; email: string },
) {
  await tx
    .insert(stripeLicenseStates)
    .values({ licenseId: license.id, stripeSubscriptionItemId: subject.subscriptionItemId ?? followedItemId(facts, subject), derived: next })
    .onConflictDoNothing();
  return queueLicenseEmails(tx, { license, before: license, prev: null, next, facts, landing: true, version: 1, graceDays: ctx.graceDays, email: ctx.email });
}
