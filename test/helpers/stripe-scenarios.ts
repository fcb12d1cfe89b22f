import crypto from "node:crypto";
import { REASONS } from "@/server/domain/billing/license-state";
import {
  chargeObject,
  checkoutSessionObject,
  disputeObject,
  invoiceObject,
  randomId,
  refundObject,
  stripeEvent,
  subscriptionObject,
  type FakeStripe,
} from "./fake-stripe";

/**
 * Stripe histories for the order proofs: the fake API is loaded with every object as it is AFTER all of the
 * history's events (what Stripe serves when late events are finally processed), and the events are returned for
 * the test to deliver in any order. Each call uses fresh ids, so many runs share one database.
 */

type Json = Record<string, any>;
export const day = (iso: string) => new Date(`${iso}T00:00:00.000Z`);

export type ExpectedEmail = { template: string; props: Record<string, unknown> };

export type Scenario = {
  name: string;
  email: string;
  events: Json[];
  /** The domain clock while the events are processed. */
  now: Date;
  sessionId: string;
  expected: {
    status: string;
    expiresAt: string | null;
    cancelAt?: string | null;
    autoRenews?: boolean;
    statusReason?: string | null;
  };
  /**
   * The emails owed once every event is processed, given the order they came in (index = position in `events`).
   * `licenseId` is filled in by the test.
   */
  emails: (order: number[], licenseId: string) => ExpectedEmail[];
  names: Record<string, string>;
};

const uniqEmail = (tag: string) => `${tag}-${crypto.randomBytes(4).toString("hex")}@example.com`;

/**
 * A subscription bought through Checkout, its first invoice paid, one renewal paid, the next renewal's payment
 * failed, then cancelled: either a cancellation scheduled for the period end ("cancel-scheduled"), or the
 * subscription ended by Stripe after the failed payment ("ended").
 */
export function subscriptionLifecycle(fake: FakeStripe, opts: { priceId: string; ending: "cancel-scheduled" | "ended" }): Scenario {
  const email = uniqEmail("sub");
  const customer = fake.addCustomer({ email });
  const [jan, feb, mar, apr] = [day("2031-01-01"), day("2031-02-01"), day("2031-03-01"), day("2031-04-01")];
  const endedAt = day("2031-03-20");
  const subId = randomId("sub");
  const itemId = randomId("si");
  const invoice = (id: string, over: Partial<Parameters<typeof invoiceObject>[0]>) =>
    fake.put(
      invoiceObject({
        id,
        subscription: subId,
        subscriptionItem: itemId,
        customer: customer.id,
        priceId: opts.priceId,
        periodStart: jan,
        periodEnd: feb,
        ...over,
      }),
    );
  const inv1 = invoice(randomId("in"), { billingReason: "subscription_create", periodStart: jan, periodEnd: feb });
  const inv2 = invoice(randomId("in"), { billingReason: "subscription_cycle", periodStart: feb, periodEnd: mar });
  const inv3 = invoice(randomId("in"), { billingReason: "subscription_cycle", periodStart: mar, periodEnd: apr, status: "open" });
  const ended = opts.ending === "ended";
  const sub = fake.put(
    subscriptionObject({
      id: subId,
      itemId,
      customer: customer.id,
      priceId: opts.priceId,
      status: ended ? "canceled" : "past_due",
      periodStart: mar,
      periodEnd: apr,
      cancelAtPeriodEnd: !ended,
      cancelAt: ended ? null : apr,
      canceledAt: ended ? endedAt : day("2031-03-03"),
      endedAt: ended ? endedAt : null,
      latestInvoice: inv3.id,
    }),
  );
  const session = checkoutSessionObject({ email, mode: "subscription", subscription: subId, customer: customer.id, payment_intent: null });
  fake.sessions.set(session.id, session);
  fake.lineItems.set(session.id, [lineItem(opts.priceId)]);

  const events = [
    stripeEvent("checkout.session.completed", session),
    stripeEvent("invoice.paid", inv1),
    stripeEvent("invoice.paid", inv2),
    stripeEvent("invoice.payment_failed", inv3),
    stripeEvent(ended ? "customer.subscription.deleted" : "customer.subscription.updated", sub),
  ];
  return {
    name: `subscription ${opts.ending}`,
    email,
    events,
    now: ended ? day("2031-03-21") : day("2031-03-05"),
    sessionId: session.id,
    expected: ended
      ? { status: "expired", expiresAt: endedAt.toISOString(), cancelAt: null, autoRenews: false }
      : { status: "past_due", expiresAt: mar.toISOString(), cancelAt: apr.toISOString(), autoRenews: false },
    // Every one is a state email (or the checkout's), so the set does not depend on the order.
    emails: (_order, licenseId) =>
      ended
        ? [
            { template: "license-issued", props: { licenseIds: [licenseId], checkoutSessionId: session.id } },
            { template: "license-expired", props: { licenseId, expiredAt: endedAt.toISOString() } },
          ]
        : [
            { template: "license-issued", props: { licenseIds: [licenseId], checkoutSessionId: session.id } },
            { template: "renewal-receipt", props: { licenseId, invoiceId: inv2.id, renewedUntil: mar.toISOString() } },
            {
              template: "payment-failed",
              props: {
                licenseId,
                invoiceId: inv3.id,
                graceEndsAt: day("2031-03-08").toISOString(),
                fixPaymentUrl: inv3.hosted_invoice_url,
              },
            },
            { template: "cancellation-scheduled", props: { licenseId, endsAt: apr.toISOString() } },
          ],
    names: { [session.id]: "session", [inv1.id]: "inv1", [inv2.id]: "inv2", [inv3.id]: "inv3", [subId]: "sub" },
  };
}

function lineItem(priceId: string): Json {
  return {
    id: randomId("li"),
    object: "item",
    quantity: 1,
    amount_subtotal: 2000,
    amount_total: 2000,
    currency: "usd",
    description: "Plan",
    price: { id: priceId, object: "price", type: "recurring", unit_amount: 2000 },
  };
}

/**
 * A one-time purchase, a refund and a dispute:
 *  - "partial-open": 300 of 1000 refunded, dispute still open -> suspended
 *  - "full-lost": fully refunded (via refund.created), dispute lost -> revoked
 *  - "partial-won": partial refund, dispute opened then closed won (4 events) -> active
 */
export function purchaseRefundDispute(fake: FakeStripe, opts: { priceId: string; variant: "partial-open" | "full-lost" | "partial-won" }): Scenario {
  const email = uniqEmail("buy");
  const pi = randomId("pi");
  const session = fake.addCheckoutSession({ email, payment_intent: pi, amount_total: 1000 }, [{ priceId: opts.priceId, amount: 1000 }]);
  const full = opts.variant === "full-lost";
  const charge = fake.put(chargeObject({ paymentIntent: pi, amount: 1000, amountRefunded: full ? 1000 : 300, disputed: true }));
  const refund = fake.put(refundObject({ charge: charge.id, paymentIntent: pi, amount: full ? 1000 : 300 }));
  const disputeStatus = { "partial-open": "needs_response", "full-lost": "lost", "partial-won": "won" }[opts.variant];
  const dispute = fake.put(disputeObject({ charge: charge.id, paymentIntent: pi, status: disputeStatus }));
  const events = [
    stripeEvent("checkout.session.completed", session),
    full ? stripeEvent("refund.created", refund) : stripeEvent("charge.refunded", charge),
    stripeEvent("charge.dispute.created", dispute),
    ...(opts.variant === "partial-won" ? [stripeEvent("charge.dispute.closed", dispute)] : []),
  ];
  const expected = {
    "partial-open": { status: "suspended", expiresAt: null, statusReason: REASONS.disputed },
    "full-lost": { status: "revoked", expiresAt: null, statusReason: REASONS.disputeLost },
    "partial-won": { status: "active", expiresAt: null, statusReason: null },
  }[opts.variant];
  return {
    name: `purchase ${opts.variant}`,
    email,
    events,
    now: new Date(),
    sessionId: session.id,
    expected,
    emails: (order, licenseId) => {
      const issued = { template: "license-issued", props: { licenseIds: [licenseId], checkoutSessionId: session.id } };
      if (opts.variant === "partial-open") {
        return [issued, { template: "license-status-changed", props: { licenseId, status: "suspended", reason: REASONS.disputed } }];
      }
      if (opts.variant === "partial-won") return [issued];
      // Revoked: if the purchase was processed first its buyer got the key, then the revocation (for whichever
      // fact revoked it first); otherwise it landed revoked and nobody is told anything.
      if (order[0] !== 0) return [];
      const first = order[1] === 1 ? REASONS.refunded : REASONS.disputeLost;
      return [issued, { template: "license-status-changed", props: { licenseId, status: "revoked", reason: first } }];
    },
    names: { [session.id]: "session", [charge.id]: "charge", [dispute.id]: "dispute" },
  };
}

/** Every ordering of 0..n-1. */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** The same event under a new id: Stripe sends sibling events for one change (invoice.paid and invoice.payment_succeeded), and admins replay. */
export const cloneEvent = (e: Json): Json => ({ ...structuredClone(e), id: randomId("evt") });
