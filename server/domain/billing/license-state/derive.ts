import { and, eq, inArray } from "drizzle-orm";
import { payments, planPrices, plans, stripeSubscriptions, type LicenseStatus } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import type { LicenseRow } from "@/server/domain/licensing/issue";
import { chargesFor, OPEN_DISPUTE_STATUSES } from "../facts";

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
 * revoked is final, so it must follow from a fact no later fact can undo. Deriving reads no clock and writes
 * nothing: apply.ts turns a derivation into license columns, emails.ts into the emails it owes.
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
export const isoOf = (d: Date | null | undefined) => (d ? d.toISOString() : null);

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
