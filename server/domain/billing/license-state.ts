import { and, asc, desc, eq, inArray, notInArray, sql } from "drizzle-orm";
import {
  activations,
  customers,
  emailOutbox,
  licenses,
  payments,
  planPrices,
  plans,
  stripeLicenseStates,
  stripeSubscriptions,
  type LicenseStatus,
} from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import type { TemplateName, TemplateProps } from "@/emails";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { DAY_MS, now } from "@/server/domain/clock";
import type { LicenseRow } from "@/server/domain/licensing/issue";
import { queueEmail } from "@/server/domain/mail/queue";
import { licenseExpiredDedupeKey } from "@/server/domain/sweeps/expire";
import { chargesFor, OPEN_DISPUTE_STATUSES } from "./facts";

/**
 * A Stripe-sold license's state is a function of Stripe's facts (facts.ts), not of the events that brought them:
 *
 *   one-time purchase   revoked   if its charge is fully refunded, or a dispute on it was lost
 *                       suspended while a dispute on it is open
 *                       active    otherwise (its expiry is its own: the plan's duration from the purchase)
 *   subscription        expiresAt = the end of the period Stripe says is paid (current period end while active or
 *                                   trialing; its start while past_due), walked back over fully refunded
 *                                   invoices ending there (the first one included: a refund gives back the period
 *                                   it paid for, it does not revoke); for an ended subscription, no later than
 *                                   ended_at
 *                       revoked   a lost dispute on any of its charges
 *                       suspended an open dispute, or the subscription paused
 *                       expired   the subscription ended; past_due while Stripe says past_due/unpaid
 *                       plan, seats (plan seats x quantity), price, cancelAt, autoRenews, trialEndsAt from the
 *                       subscription item the license follows
 *
 * Facts only accumulate and each is the latest read of its object, so once every event has been processed the
 * derived state is the same whatever order they came in. Only a lost dispute revokes a subscription's license:
 * revoked is final, so it must follow from a fact no later fact can undo. Applying it (applyDerivedState) changes only what the
 * derivation changed since the last time, so an admin's own suspension or extension stands until Stripe's side
 * moves again; revoked stays revoked. The clock enters only when a status is applied: an active derivation
 * past its expiry plus grace lands as expired.
 */

export type DerivedLicenseState = {
  status: LicenseStatus;
  /** What caused a non-active status, by Stripe object: "dispute:dp_…", "refund:ch_…", "paused:sub_…:<period>", "ended:sub_…". */
  cause: string | null;
  /** Customer-readable words for a suspension or revocation. */
  reason: string | null;
  // Subscription licenses only (absent for one-time purchases: Stripe does not control them).
  expiresAt?: string | null;
  cancelAt?: string | null;
  autoRenews?: boolean;
  trialEndsAt?: string | null;
  stripePriceId?: string | null;
  planId?: string;
  maxActivations?: number;
  /** The followed item's price is bound to no plan: the license keeps its plan until one is. */
  unboundPriceId?: string | null;
};

export const REASONS = {
  refunded: "The purchase was refunded.",
  disputeLost: "The payment was disputed with the card issuer and the dispute was closed in the cardholder's favour.",
  disputed: "The payment is disputed with the card issuer; the license is on hold until the dispute is resolved.",
  paused: "The subscription is paused.",
} as const;

type SubscriptionRow = typeof stripeSubscriptions.$inferSelect;
type PaymentRow = typeof payments.$inferSelect;
type ChargeRow = Awaited<ReturnType<typeof chargesFor>>[number];
type PlanRef = { id: string; seats: number };

/** What a license is tied to on Stripe's side. */
export type BillingSubject = {
  planId: string;
  maxActivations: number;
  subscriptionId: string | null;
  subscriptionItemId: string | null;
  priceId: string | null;
  /** The one-time purchase's payment intent (subscription payments are found through their invoices). */
  paymentIntentId: string | null;
};

export type BillingFacts = {
  subscription: SubscriptionRow | null;
  invoices: PaymentRow[];
  charges: ChargeRow[];
  plansByPrice: Map<string, PlanRef>;
};

export async function loadBillingFacts(tx: Tx, subject: BillingSubject): Promise<BillingFacts> {
  const [subscription] = subject.subscriptionId
    ? await tx.select().from(stripeSubscriptions).where(eq(stripeSubscriptions.id, subject.subscriptionId))
    : [];
  const invoices = subject.subscriptionId
    ? await tx
        .select()
        .from(payments)
        .where(and(eq(payments.stripeSubscriptionId, subject.subscriptionId), eq(payments.kind, "subscription_invoice")))
    : [];
  const charges = await chargesFor(
    tx,
    [subject.paymentIntentId, ...invoices.map((i) => i.stripePaymentIntentId)],
    invoices.map((i) => i.stripeChargeId),
  );
  const priceIds = [...new Set((subscription?.items ?? []).map((i) => i.priceId).filter((p): p is string => !!p))];
  const bound = priceIds.length
    ? await tx
        .select({ priceId: planPrices.stripePriceId, id: plans.id, seats: plans.seats })
        .from(planPrices)
        .innerJoin(plans, eq(plans.id, planPrices.planId))
        .where(inArray(planPrices.stripePriceId, priceIds))
    : [];
  return {
    subscription: subscription ?? null,
    invoices,
    charges,
    plansByPrice: new Map(bound.map((b) => [b.priceId, { id: b.id, seats: b.seats }])),
  };
}

const MAX_SEATS = 2_147_483_647;
const ENDED = ["canceled", "incomplete_expired"];
const PAID_UP = ["active", "trialing"];
const RENEWING = ["active", "trialing", "past_due", "unpaid"];
const isoOf = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The subscription item a license follows: the one it was issued for, else the one at its price, else the first. */
export function followedItem(sub: SubscriptionRow, subject: Pick<BillingSubject, "subscriptionItemId" | "priceId">) {
  return (
    sub.items.find((i) => i.id === subject.subscriptionItemId) ??
    sub.items.find((i) => i.priceId !== null && i.priceId === subject.priceId) ??
    sub.items[0] ??
    null
  );
}

function chargesOf(facts: BillingFacts, p: Pick<PaymentRow, "stripePaymentIntentId" | "stripeChargeId">) {
  return facts.charges.filter(
    (c) => (p.stripePaymentIntentId && c.stripePaymentIntentId === p.stripePaymentIntentId) || c.id === p.stripeChargeId,
  );
}

export const isFullyRefunded = (facts: BillingFacts, p: PaymentRow) =>
  p.status === "paid" && p.amount > 0 && chargesOf(facts, p).some((c) => c.refunded);

function disputeStatus(facts: BillingFacts): { lost?: ChargeRow; open?: ChargeRow } {
  return {
    lost: facts.charges.find((c) => c.disputeStatus === "lost"),
    open: facts.charges.find((c) => c.disputeStatus !== null && OPEN_DISPUTE_STATUSES.includes(c.disputeStatus)),
  };
}

export function deriveLicenseState(subject: BillingSubject, facts: BillingFacts): DerivedLicenseState {
  const { lost, open } = disputeStatus(facts);
  const sub = facts.subscription;
  const revokedByDispute = lost && { status: "revoked" as const, cause: `dispute:${lost.disputeId}`, reason: REASONS.disputeLost };
  const suspendedByDispute = open && { status: "suspended" as const, cause: `dispute:${open.disputeId}`, reason: REASONS.disputed };

  if (!subject.subscriptionId || !sub) {
    const refunded = subject.subscriptionId ? undefined : facts.charges.find((c) => c.refunded);
    return (
      revokedByDispute ||
      (refunded && { status: "revoked", cause: `refund:${refunded.id}`, reason: REASONS.refunded }) ||
      suspendedByDispute || { status: "active", cause: null, reason: null }
    );
  }

  const item = followedItem(sub, subject);
  const periodStart = item?.currentPeriodStart ? new Date(item.currentPeriodStart) : null;
  const periodEnd = item?.currentPeriodEnd ? new Date(item.currentPeriodEnd) : null;
  const ended = ENDED.includes(sub.status);

  // Paid through: Stripe's current period counts while the subscription is paid up (or ended: ended_at caps it).
  let paidThrough = PAID_UP.includes(sub.status) || ended ? periodEnd : periodStart;
  // A fully refunded invoice gives back the period it paid for: the expiry returns to where that period started.
  for (let guard = 0; paidThrough && guard < 1000; guard++) {
    const at = paidThrough.getTime();
    const refunded = facts.invoices.find(
      (i) => i.periodEnd?.getTime() === at && i.periodStart && i.periodStart.getTime() < at && isFullyRefunded(facts, i),
    );
    if (!refunded) break;
    paidThrough = refunded.periodStart;
  }
  let expiresAt = paidThrough;
  if (ended && sub.endedAt && (!expiresAt || sub.endedAt < expiresAt)) expiresAt = sub.endedAt;

  const priceId = item?.priceId ?? null;
  const plan = priceId ? facts.plansByPrice.get(priceId) : undefined;
  const cancelAt = ended ? null : (sub.cancelAt ?? (sub.cancelAtPeriodEnd ? periodEnd : null));
  const status: Pick<DerivedLicenseState, "status" | "cause" | "reason"> = revokedByDispute ||
    suspendedByDispute ||
    (sub.status === "paused" && { status: "suspended", cause: `paused:${sub.id}:${isoOf(periodStart)}`, reason: REASONS.paused }) ||
    (ended && { status: "expired", cause: `ended:${sub.id}`, reason: null }) || {
      status: PAID_UP.includes(sub.status) ? "active" : "past_due",
      cause: null,
      reason: null,
    };

  return {
    ...status,
    expiresAt: isoOf(expiresAt),
    cancelAt: isoOf(cancelAt),
    autoRenews: RENEWING.includes(sub.status) && cancelAt === null,
    trialEndsAt: sub.status === "trialing" ? isoOf(sub.trialEnd) : null,
    stripePriceId: priceId,
    planId: plan?.id ?? subject.planId,
    maxActivations: plan ? Math.min(plan.seats * (item?.quantity ?? 1), MAX_SEATS) : subject.maxActivations,
    unboundPriceId: priceId && !plan ? priceId : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Applying

const pastGrace = (expiresAt: Date | null, graceDays: number) =>
  expiresAt !== null && expiresAt.getTime() + graceDays * DAY_MS < now().getTime();

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
  return { status: pastGrace(expiresAt, graceDays) ? "expired" : next.status, statusReason: null };
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
      target = { status: pastGrace(expiresAt, graceDays) ? "expired" : next.status, statusReason: null };
    }
  }
  if (target && (target.status !== before.status || target.statusReason !== before.statusReason)) {
    set.status = target.status;
    set.statusReason = target.statusReason;
    changed.push("status");
  }

  let after = before;
  let removedActivations = 0;
  if (changed.length) {
    [after] = await tx.update(licenses).set({ ...set, updatedAt: now() }).where(eq(licenses.id, licenseId)).returning() as [LicenseRow];
    if (set.maxActivations !== undefined) removedActivations = await trimActivations(tx, licenseId, set.maxActivations);
    await recordAudit(tx, actor, {
      action: "license.stripe_synced",
      subjectType: "license",
      subjectId: licenseId,
      before: auditSnapshot(before),
      after: auditSnapshot(after),
      metadata: { changed, cause: next.cause, ...(removedActivations ? { removedActivations } : {}), ...(next.unboundPriceId ? { unboundPriceId: next.unboundPriceId } : {}) },
    });
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
  return { ...summary(before, after, changed, emails), ...(removedActivations ? { removedActivations } : {}), unboundPriceId: next.unboundPriceId ?? null };
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

export function subjectOf(l: LicenseRow, subscriptionItemId: string | null): BillingSubject {
  return {
    planId: l.planId,
    maxActivations: l.maxActivations,
    subscriptionId: l.stripeSubscriptionId,
    subscriptionItemId,
    priceId: l.stripePriceId,
    paymentIntentId: l.stripeSubscriptionId ? null : l.stripePaymentIntentId,
  };
}

export function followedItemId(facts: BillingFacts, subject: BillingSubject): string | null {
  return facts.subscription ? (followedItem(facts.subscription, subject)?.id ?? null) : null;
}

/**
 * Seats shrunk below the machines activated (a downgrade): the most recently seen activations keep their seats and
 * the rest are removed. Seats are what the customer pays for; the machines not seen lately are the likeliest to be
 * retired, and any of them can activate again once a seat is free. Their offline tokens run out on their own.
 */
async function trimActivations(tx: Tx, licenseId: string, seats: number): Promise<number> {
  const keep = tx
    .select({ id: activations.id })
    .from(activations)
    .where(eq(activations.licenseId, licenseId))
    .orderBy(desc(activations.lastSeenAt), desc(activations.createdAt), asc(activations.id))
    .limit(seats);
  const removed = await tx
    .delete(activations)
    .where(and(eq(activations.licenseId, licenseId), notInArray(activations.id, keep)))
    .returning({ id: activations.id });
  return removed.length;
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

// ---------------------------------------------------------------------------------------------------------------
// Emails. See README "Emails when Stripe events arrive late or out of order". Two kinds:
//  - state emails describe where the license is now and are keyed by the Stripe objects that put it there, so
//    they go out once whichever event (or how many) reveals that state: payment failed (per open invoice),
//    renewal receipt (per renewal invoice that currently sets the expiry), cancellation scheduled (per date),
//    suspended (per dispute or pause), expired because the subscription ended (shared key with the expiry sweep).
//  - transition emails need a before: revoked, reinstated, plan changed. A license issued already in its final
//    state (its events arrived before its checkout) gets none of them.
// A license that is revoked gets nothing else, and one revoked before the customer ever heard of it gets no
// email at all (the checkout sends no key for it).

type EmailContext = {
  license: LicenseRow;
  before: LicenseRow;
  prev: DerivedLicenseState | null;
  next: DerivedLicenseState;
  facts: BillingFacts;
  landing: boolean;
  version: number;
  graceDays: number;
  email: string;
};

async function queueLicenseEmails(tx: Tx, c: EmailContext): Promise<string[]> {
  const owed: OwedEmail[] = [];
  collectLicenseEmails(c, owed);
  if (owed.length === 0) return [];
  // Most syncs re-derive emails already owed: one query finds them instead of one failed insert each.
  const known = new Set(
    (await tx.select({ key: emailOutbox.dedupeKey }).from(emailOutbox).where(inArray(emailOutbox.dedupeKey, owed.map((o) => o.dedupeKey)))).map(
      (r) => r.key,
    ),
  );
  const queued: string[] = [];
  for (const o of owed) {
    if (known.has(o.dedupeKey)) continue;
    if (await queueEmail(tx, { ...o, to: c.email, customerId: c.license.customerId } as Parameters<typeof queueEmail>[1])) {
      queued.push(o.template);
    }
  }
  return queued;
}

type OwedEmail = { [T in TemplateName]: { template: T; dedupeKey: string; props: TemplateProps[T] } }[TemplateName];

function collectLicenseEmails(c: EmailContext, out: OwedEmail[]) {
  const { license: l, before, prev, next, facts } = c;
  const owe = <T extends TemplateName>(input: { template: T; dedupeKey: string; props: TemplateProps[T] }) => {
    out.push(input as OwedEmail);
  };
  const transition = !c.landing;

  if (l.status === "revoked") {
    if (transition && before.status !== "revoked") {
      owe({
        template: "license-status-changed",
        dedupeKey: `license-status:${l.id}:revoked`,
        props: { licenseId: l.id, status: "revoked", reason: l.statusReason },
      });
    }
    return;
  }
  if (l.status === "suspended" && next.status === "suspended" && next.cause) {
    owe({
      template: "license-status-changed",
      dedupeKey: `license-status:${l.id}:suspended:${next.cause}`,
      props: { licenseId: l.id, status: "suspended", reason: next.reason },
    });
  }
  const working = l.status === "active" || l.status === "past_due";
  if (transition && prev?.status === "suspended" && next.status !== "suspended" && before.status === "suspended" && working) {
    owe({
      template: "license-status-changed",
      dedupeKey: `license-status:${l.id}:reinstated:${prev.cause}`,
      props: { licenseId: l.id, status: "reinstated", reason: null },
    });
  }
  // Expired by us: the subscription ended (it stopped at its end date), or a change landed past expiry plus grace
  // (a refund walking the expiry back, a dispute won too late). The sweep uses the same key for the same expiry.
  if (l.status === "expired" && l.expiresAt && (c.landing || before.status !== "expired")) {
    const stoppedAt = next.status === "expired" ? l.expiresAt : new Date(l.expiresAt.getTime() + c.graceDays * DAY_MS);
    owe({
      template: "license-expired",
      dedupeKey: licenseExpiredDedupeKey(l.id, l.expiresAt),
      props: { licenseId: l.id, expiredAt: stoppedAt.toISOString() },
    });
  }
  if (transition && before.planId !== l.planId) {
    owe({
      template: "plan-changed",
      dedupeKey: `plan-changed:${l.id}:${before.planId}->${l.planId}:v${c.version}`,
      props: { licenseId: l.id, fromPlanId: before.planId, toPlanId: l.planId, previousSeats: before.maxActivations },
    });
  }
  if (!working || !facts.subscription) return;
  const sub = facts.subscription;

  if (l.status === "past_due" && sub.latestInvoiceId) {
    const failing = facts.invoices.find((i) => i.stripeInvoiceId === sub.latestInvoiceId);
    if (failing && (failing.status === "open" || failing.status === "uncollectible")) {
      owe({
        template: "payment-failed",
        dedupeKey: `payment-failed:${failing.stripeInvoiceId}:${l.id}`,
        props: {
          licenseId: l.id,
          invoiceId: failing.stripeInvoiceId,
          graceEndsAt: l.expiresAt ? new Date(l.expiresAt.getTime() + c.graceDays * DAY_MS).toISOString() : null,
          fixPaymentUrl: failing.hostedInvoiceUrl,
        },
      });
    }
  }
  const expiry = next.expiresAt ? new Date(next.expiresAt).getTime() : null;
  const renewal = facts.invoices.find(
    (i) =>
      i.billingReason === "subscription_cycle" &&
      i.status === "paid" &&
      i.periodEnd?.getTime() === expiry &&
      !isFullyRefunded(facts, i),
  );
  if (renewal) {
    owe({
      template: "renewal-receipt",
      dedupeKey: `renewal-receipt:${renewal.stripeInvoiceId}:${l.id}`,
      props: { licenseId: l.id, invoiceId: renewal.stripeInvoiceId, renewedUntil: renewal.periodEnd!.toISOString() },
    });
  }
  if (next.cancelAt && l.cancelAt) {
    owe({
      template: "cancellation-scheduled",
      dedupeKey: `cancellation-scheduled:${sub.id}:${next.cancelAt}:${l.id}`,
      props: { licenseId: l.id, endsAt: next.cancelAt },
    });
  }
  return;
}
