import type Stripe from "stripe";
import { eq, inArray, or, sql } from "drizzle-orm";
import { payments, stripeCharges, stripeSubscriptions, type SubscriptionItemFacts } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import { now } from "@/server/domain/clock";

/**
 * Facts: what the Stripe API says about the objects a license depends on (its subscription, the invoices and
 * checkout that paid for it, the charges behind them), normalized and stored by object id. Every fact is read
 * from the API when an event points at it, never taken from the event's payload, and is written with the time
 * it was read: a read that started earlier never overwrites one that started later. Facts do not depend on the
 * order events arrive in, so neither does the license state derived from them (license-state.ts).
 */

export const idOf = (v: string | { id: string } | null | undefined) => (v == null ? null : typeof v === "string" ? v : v.id);
const date = (unixSeconds: number | null | undefined) => (unixSeconds == null ? null : new Date(unixSeconds * 1000));
const iso = (unixSeconds: number | null | undefined) => date(unixSeconds)?.toISOString() ?? null;

export type SubscriptionFacts = {
  id: string;
  stripeCustomerId: string | null;
  status: string;
  items: SubscriptionItemFacts[];
  cancelAt: Date | null;
  cancelAtPeriodEnd: boolean;
  endedAt: Date | null;
  trialEnd: Date | null;
  latestInvoiceId: string | null;
  observedAt: Date;
};

export type InvoiceFacts = {
  id: string;
  subscriptionId: string | null;
  status: string;
  billingReason: string | null;
  amount: number;
  currency: string | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  hostedInvoiceUrl: string | null;
  paymentIntentIds: string[];
  chargeIds: string[];
  observedAt: Date;
};

export type ChargeFacts = {
  id: string;
  paymentIntentId: string | null;
  amount: number;
  amountRefunded: number;
  refunded: boolean;
  currency: string | null;
  observedAt: Date;
};

export type DisputeFacts = {
  id: string;
  chargeId: string;
  paymentIntentId: string | null;
  status: string;
  observedAt: Date;
};

// The read time is taken before the request leaves: whatever the answer says was true at least then.
export const readClock = () => new Date();

export async function readSubscription(stripe: Stripe, id: string): Promise<SubscriptionFacts> {
  const observedAt = readClock();
  return subscriptionFacts(await stripe.subscriptions.retrieve(id), observedAt);
}

export function subscriptionFacts(sub: Stripe.Subscription, observedAt: Date): SubscriptionFacts {
  return {
    id: sub.id,
    stripeCustomerId: idOf(sub.customer),
    status: sub.status,
    items: sub.items.data.map((i) => ({
      id: i.id,
      priceId: i.price?.id ?? null,
      quantity: i.quantity ?? 1,
      currentPeriodStart: iso(i.current_period_start),
      currentPeriodEnd: iso(i.current_period_end),
    })),
    cancelAt: date(sub.cancel_at),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    endedAt: date(sub.ended_at),
    trialEnd: date(sub.trial_end),
    latestInvoiceId: idOf(sub.latest_invoice),
    observedAt,
  };
}

/** The subscription an invoice belongs to: parent.subscription_details in this API version. */
export const invoiceSubscriptionId = (inv: Stripe.Invoice) => idOf(inv.parent?.subscription_details?.subscription);

/**
 * An invoice with what it pays for: the period of its subscription line (not the invoice's own period_start/end,
 * which for a renewal is the period that just ended) and the payment intents of its payments.
 */
export async function readInvoice(stripe: Stripe, id: string): Promise<InvoiceFacts> {
  const observedAt = readClock();
  const inv = await stripe.invoices.retrieve(id, { expand: ["payments"] });
  const lines: Stripe.InvoiceLineItem[] = [...inv.lines.data];
  if (inv.lines.has_more) {
    lines.length = 0;
    for await (const line of stripe.invoices.listLineItems(id, { limit: 100 })) lines.push(line);
  }
  const subLines = lines.filter((l) => l.parent?.subscription_item_details);
  // Prefer the plain subscription lines; prorations (a mid-period plan change) cover partial periods.
  const periodic = subLines.filter((l) => !l.parent?.subscription_item_details?.proration);
  const chosen = periodic.length ? periodic : subLines;
  const starts = chosen.map((l) => l.period.start);
  const ends = chosen.map((l) => l.period.end);
  const invoicePayments = inv.payments?.data ?? [];
  return {
    id: inv.id,
    subscriptionId: invoiceSubscriptionId(inv),
    status: inv.status ?? "draft",
    billingReason: inv.billing_reason ?? null,
    amount: inv.amount_paid ?? 0,
    currency: inv.currency ?? null,
    periodStart: starts.length ? date(Math.min(...starts)) : null,
    periodEnd: ends.length ? date(Math.max(...ends)) : null,
    hostedInvoiceUrl: inv.hosted_invoice_url ?? null,
    paymentIntentIds: [
      ...new Set(invoicePayments.flatMap((p) => (p.payment.type === "payment_intent" ? [idOf(p.payment.payment_intent)!] : []))),
    ],
    chargeIds: [...new Set(invoicePayments.flatMap((p) => (p.payment.type === "charge" ? [idOf(p.payment.charge)!] : [])))],
    observedAt,
  };
}

export async function readCharge(stripe: Stripe, id: string): Promise<ChargeFacts> {
  const observedAt = readClock();
  const ch = await stripe.charges.retrieve(id);
  return {
    id: ch.id,
    paymentIntentId: idOf(ch.payment_intent),
    amount: ch.amount,
    amountRefunded: ch.amount_refunded,
    refunded: ch.refunded,
    currency: ch.currency ?? null,
    observedAt,
  };
}

export async function readDispute(stripe: Stripe, id: string): Promise<DisputeFacts> {
  const observedAt = readClock();
  const dp = await stripe.disputes.retrieve(id);
  return { id: dp.id, chargeId: idOf(dp.charge)!, paymentIntentId: idOf(dp.payment_intent), status: dp.status, observedAt };
}

/** Dispute statuses that still hold the money in question (the license is suspended meanwhile). */
export const OPEN_DISPUTE_STATUSES = ["warning_needs_response", "warning_under_review", "needs_response", "under_review"];

// ---------------------------------------------------------------------------------------------------------------
// Locks. Every transaction that writes facts or derives a license from them first takes the advisory locks of the
// payment intents, then of the subscriptions, it touches (each list sorted): a refund and the purchase it
// refunds, or an invoice and its subscription's update, then serialize, and whichever commits second sees the
// other's facts. Without this, a refund committed while its purchase is being issued could be missed by both.

async function advisoryLocks(tx: Tx, sorted: string[]) {
  if (sorted.length === 1) await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${sorted[0]}, 0))`);
  else if (sorted.length > 1) {
    // One round trip; the locks are taken in the array's order.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(array[${sql.join(
      sorted.map((k) => sql`${k}`),
      sql`, `,
    )}]::text[]) with ordinality as t(k, n) order by n`);
  }
}

export async function lockBillingRoots(tx: Tx, roots: { paymentIntentIds?: (string | null)[]; subscriptionIds?: (string | null)[] }) {
  const keys = (ids: (string | null)[] | undefined, prefix: string) =>
    [...new Set((ids ?? []).filter((x): x is string => !!x))].sort().map((id) => `${prefix}${id}`);
  // Payments first, then subscriptions, each sorted: one order for every transaction, so none waits in a cycle.
  await advisoryLocks(tx, [...keys(roots.paymentIntentIds, "stripe-payment:"), ...keys(roots.subscriptionIds, "stripe-subscription:")]);
}

// ---------------------------------------------------------------------------------------------------------------
// Upserts. Each writes only when its read is at least as recent as the stored one.

export async function saveSubscriptionFacts(tx: Tx, f: SubscriptionFacts) {
  const values = {
    id: f.id,
    stripeCustomerId: f.stripeCustomerId,
    status: f.status,
    items: f.items,
    cancelAt: f.cancelAt,
    cancelAtPeriodEnd: f.cancelAtPeriodEnd,
    endedAt: f.endedAt,
    trialEnd: f.trialEnd,
    latestInvoiceId: f.latestInvoiceId,
    observedAt: f.observedAt,
    updatedAt: now(),
  };
  const { id: _id, ...set } = values;
  await tx
    .insert(stripeSubscriptions)
    .values(values)
    .onConflictDoUpdate({
      target: stripeSubscriptions.id,
      set,
      setWhere: sql`${stripeSubscriptions.observedAt} <= excluded.observed_at`,
    });
}

/** Records a subscription invoice as a payment; refund facts already known for its charges are copied in. */
export async function saveInvoicePayment(tx: Tx, f: InvoiceFacts) {
  const paymentIntentId = f.paymentIntentIds[0] ?? null;
  const known = await chargesFor(tx, f.paymentIntentIds, f.chargeIds);
  const values = {
    kind: "subscription_invoice" as const,
    stripeInvoiceId: f.id,
    stripeSubscriptionId: f.subscriptionId,
    stripePaymentIntentId: paymentIntentId,
    stripeChargeId: f.chargeIds[0] ?? known[0]?.id ?? null,
    status: f.status,
    billingReason: f.billingReason,
    amount: f.amount,
    amountRefunded: known.reduce((sum, c) => sum + c.amountRefunded, 0),
    currency: f.currency,
    periodStart: f.periodStart,
    periodEnd: f.periodEnd,
    hostedInvoiceUrl: f.hostedInvoiceUrl,
    observedAt: f.observedAt,
    updatedAt: now(),
  };
  const { kind: _k, stripeInvoiceId: _i, ...set } = values;
  await tx
    .insert(payments)
    .values(values)
    .onConflictDoUpdate({ target: payments.stripeInvoiceId, set, setWhere: sql`${payments.observedAt} <= excluded.observed_at` });
}

/** Records a one-time checkout payment (one row per session, for every license it issued). */
export async function savePurchasePayment(
  tx: Tx,
  p: { sessionId: string; paymentIntentId: string | null; amount: number; currency: string | null; licenseId: string | null },
) {
  const known = await chargesFor(tx, [p.paymentIntentId], []);
  await tx
    .insert(payments)
    .values({
      kind: "purchase",
      stripeCheckoutSessionId: p.sessionId,
      stripePaymentIntentId: p.paymentIntentId,
      stripeChargeId: known[0]?.id ?? null,
      licenseId: p.licenseId,
      status: "paid",
      amount: p.amount,
      amountRefunded: known.reduce((sum, c) => sum + c.amountRefunded, 0),
      currency: p.currency,
      expiresAtBefore: null,
      observedAt: new Date(),
    })
    .onConflictDoNothing({ target: payments.stripeCheckoutSessionId });
}

export async function saveChargeFacts(tx: Tx, f: ChargeFacts) {
  await tx
    .insert(stripeCharges)
    .values({
      id: f.id,
      stripePaymentIntentId: f.paymentIntentId,
      amount: f.amount,
      amountRefunded: f.amountRefunded,
      refunded: f.refunded,
      currency: f.currency,
      observedAt: f.observedAt,
    })
    .onConflictDoUpdate({
      target: stripeCharges.id,
      set: {
        stripePaymentIntentId: f.paymentIntentId,
        amount: f.amount,
        amountRefunded: f.amountRefunded,
        refunded: f.refunded,
        currency: f.currency,
        observedAt: f.observedAt,
        updatedAt: now(),
      },
      setWhere: sql`${stripeCharges.observedAt} is null or ${stripeCharges.observedAt} <= excluded.observed_at`,
    });
  await copyRefundsToPayments(tx, f.paymentIntentId, f.id);
}

export async function saveDisputeFacts(tx: Tx, f: DisputeFacts) {
  await tx
    .insert(stripeCharges)
    .values({
      id: f.chargeId,
      stripePaymentIntentId: f.paymentIntentId,
      disputeId: f.id,
      disputeStatus: f.status,
      disputeObservedAt: f.observedAt,
    })
    .onConflictDoUpdate({
      target: stripeCharges.id,
      set: {
        stripePaymentIntentId: sql`coalesce(${stripeCharges.stripePaymentIntentId}, excluded.stripe_payment_intent_id)`,
        disputeId: f.id,
        disputeStatus: f.status,
        disputeObservedAt: f.observedAt,
        updatedAt: now(),
      },
      setWhere: sql`${stripeCharges.disputeObservedAt} is null or ${stripeCharges.disputeObservedAt} <= excluded.dispute_observed_at`,
    });
}

async function copyRefundsToPayments(tx: Tx, paymentIntentId: string | null, chargeId: string) {
  const match = paymentIntentId
    ? or(eq(payments.stripePaymentIntentId, paymentIntentId), eq(payments.stripeChargeId, chargeId))
    : eq(payments.stripeChargeId, chargeId);
  await tx
    .update(payments)
    .set({
      stripeChargeId: sql`coalesce(${payments.stripeChargeId}, ${chargeId})`,
      amountRefunded: sql`coalesce((
        select sum(c.amount_refunded)::int from ${stripeCharges} c
        where c.id = coalesce(${payments.stripeChargeId}, ${chargeId})
           or (${payments.stripePaymentIntentId} is not null and c.stripe_payment_intent_id = ${payments.stripePaymentIntentId})
      ), 0)`,
      updatedAt: now(),
    })
    .where(match);
}

export async function chargesFor(tx: Tx, paymentIntentIds: (string | null)[], chargeIds: (string | null)[]) {
  const pis = paymentIntentIds.filter((x): x is string => !!x);
  const chs = chargeIds.filter((x): x is string => !!x);
  if (!pis.length && !chs.length) return [];
  const conds = [];
  if (pis.length) conds.push(inArray(stripeCharges.stripePaymentIntentId, pis));
  if (chs.length) conds.push(inArray(stripeCharges.id, chs));
  return tx
    .select()
    .from(stripeCharges)
    .where(conds.length === 1 ? conds[0] : or(...conds))
    .orderBy(stripeCharges.id);
}
