import crypto from "node:crypto";
import { REASONS } from "@/server/domain/billing/license-state";
import {
  checkoutSessionObject,
  invoiceObject,
  lineItemObject,
  randomId,
  stripeEvent,
  subscriptionObject,
  type FakeStripe,
  type InvoiceSpec,
  type SubscriptionSpec,
} from "./fake-stripe";
import { cloneEvent, day, type ExpectedEmail } from "./stripe-scenarios";

/**
 * Stripe histories whose objects EVOLVE: unlike stripe-scenarios.ts (every object in its final state), each step
 * of a history says what Stripe's objects are from that moment on, and which events Stripe sends about it. A test
 * moves the fake API step by step and delivers events in between, late, twice or never (reconciliation finds
 * those), so processing reads intermediate states, as it does when a webhook queue backs up.
 *
 * What such a run owes by email depends on what processing saw: a payment failure is only told if some
 * processing saw the subscription past due with the license already issued. Each email therefore comes with the
 * rule that says, from the observations of a run, whether it is owed. Each call uses fresh ids.
 */

type Json = Record<string, any>;

export type HistoryStep = {
  name: string;
  /** The domain clock while this step's deliveries are processed. */
  at: Date;
  /** Every object that changed at this step, in its new state (served from this step on). */
  objects: Json[];
  /** The events Stripe sends at this step; `about` names the object an event points at (siblings share it). */
  events: { about: string; event: Json }[];
};

/** License columns a history's outcome is compared on. */
export const LICENSE_FIELDS = ["status", "statusReason", "expiresAt", "cancelAt", "autoRenews", "trialEndsAt", "planId", "maxActivations", "stripePriceId"] as const;
export type LicenseOutcome = Record<(typeof LICENSE_FIELDS)[number], unknown>;

/** An email a history may owe; `when` says from a run's observations whether it is owed (absent: always). */
export type OwedEmail = { email: ExpectedEmail; when?: (seen: Observations) => boolean };

export type History = {
  name: string;
  email: string;
  sessionId: string;
  steps: HistoryStep[];
  /** Checkout events issue the license from this step on (the session is unpaid before it). */
  issuesFrom: number;
  /** The license after the last step, as a clean in-order run must leave it. */
  expected: Partial<LicenseOutcome>;
  /** Every email the history may owe, each with the rule that says whether a run's observations owe it. */
  emails: (licenseId: string) => OwedEmail[];
};

/** One processed delivery: the step Stripe was at, and what the event pointed at. */
export type Observation = { step: number; about: string };

/** What a run's processing saw, in processing order. */
export class Observations {
  constructor(
    readonly log: Observation[],
    private readonly issuesFrom: number,
  ) {}

  /** Index of the processing that issued the license (a checkout event once the session is paid), or -1. */
  landing() {
    return this.log.findIndex((o) => o.about === "session" && o.step >= this.issuesFrom);
  }

  /** The step the license was issued at. */
  landedAt() {
    const i = this.landing();
    return i < 0 ? -1 : this.log[i]!.step;
  }

  /**
   * The step Stripe was at when the license existed and every named object had been processed at least once
   * ("license" names the license): the first moment a state email about them could be owed.
   */
  togetherAt(...about: string[]) {
    const firsts = about.map((a) => (a === "license" ? this.landing() : this.log.findIndex((o) => o.about === a)));
    return firsts.some((i) => i < 0) ? -1 : this.log[Math.max(...firsts)]!.step;
  }

  /** Whether some processing saw Stripe at `step` once the license existed. */
  sawWithLicense(step: number) {
    const l = this.landing();
    return l >= 0 && this.log.some((o, i) => i >= l && o.step === step);
  }
}

const uniqEmail = (tag: string) => `${tag}-${crypto.randomBytes(4).toString("hex")}@example.com`;
const at = (iso: string) => new Date(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso);

/** A Stripe customer with one subscription (one item) bought through Checkout, and builders for its states. */
function subscriptionWorld(fake: FakeStripe, opts: { tag: string; priceId: string; periodStart: Date; periodEnd: Date }) {
  const email = uniqEmail(opts.tag);
  const customer = fake.addCustomer({ email });
  const subId = randomId("sub");
  const itemId = randomId("si");
  const sessionId = randomId("cs");
  fake.lineItems.set(sessionId, [lineItemObject({ priceId: opts.priceId, amount: 2000 })]);
  let spec: SubscriptionSpec = { id: subId, itemId, customer: customer.id, priceId: opts.priceId, periodStart: opts.periodStart, periodEnd: opts.periodEnd };
  return {
    email,
    subId,
    sessionId,
    /** The subscription as it is after these changes (they accumulate, as on Stripe). */
    sub: (over: Partial<SubscriptionSpec> = {}) => subscriptionObject((spec = { ...spec, ...over })),
    invoice: (over: Partial<InvoiceSpec> & Pick<InvoiceSpec, "periodStart" | "periodEnd">) =>
      invoiceObject({ subscription: subId, subscriptionItem: itemId, customer: customer.id, priceId: spec.priceId, ...over }),
    session: (over: Json = {}) =>
      checkoutSessionObject({ id: sessionId, email, mode: "subscription", subscription: subId, customer: customer.id, payment_intent: null, amount_total: 2000, ...over }),
  };
}

const ev = (about: string, type: string, object: Json) => ({ about, event: stripeEvent(type, object) });
/** The first step most histories share: a paid checkout creates an active subscription and its first invoice. */
const paidCheckout = (s0: { sub: Json; session: Json }, inv1: Json, name = "active"): HistoryStep => ({
  name,
  at: at("2031-01-01T00:10:00Z"),
  objects: [s0.sub, s0.session, inv1],
  events: [ev("session", "checkout.session.completed", s0.session), ev("sub", "customer.subscription.created", s0.sub), ev("inv1", "invoice.paid", inv1)],
});
const issued = (licenseId: string, sessionId: string): OwedEmail => ({
  email: { template: "license-issued", props: { licenseIds: [licenseId], checkoutSessionId: sessionId } },
});
const receipt = (licenseId: string, invoice: Json, renewedUntil: Date, when: OwedEmail["when"]): OwedEmail => ({
  email: { template: "renewal-receipt", props: { licenseId, invoiceId: invoice.id, renewedUntil: renewedUntil.toISOString() } },
  when,
});
const paymentFailed = (licenseId: string, invoice: Json, graceEndsAt: Date, when: OwedEmail["when"]): OwedEmail => ({
  email: {
    template: "payment-failed",
    props: { licenseId, invoiceId: invoice.id, graceEndsAt: graceEndsAt.toISOString(), fixPaymentUrl: invoice.hosted_invoice_url },
  },
  when,
});
const expired = (licenseId: string, expiredAt: Date): OwedEmail => ({
  email: { template: "license-expired", props: { licenseId, expiredAt: expiredAt.toISOString() } },
});

/**
 * Incomplete (an asynchronous first payment: the checkout completes unpaid), then active, renewed, past due,
 * cancelled by Stripe after the failed payment. The plan behind `priceId` must have 7 grace days.
 */
export function incompleteToCanceled(fake: FakeStripe, priceId: string): History {
  const [jan, feb, mar, apr] = [day("2031-01-01"), day("2031-02-01"), day("2031-03-01"), day("2031-04-01")];
  const endedAt = day("2031-03-20");
  const w = subscriptionWorld(fake, { tag: "life", priceId, periodStart: jan, periodEnd: feb });
  const pi1 = randomId("pi");
  const inv1Id = randomId("in");
  const inv1 = (status: "open" | "paid") => w.invoice({ id: inv1Id, status, paymentIntent: pi1, billingReason: "subscription_create", periodStart: jan, periodEnd: feb });
  const inv2 = w.invoice({ billingReason: "subscription_cycle", periodStart: feb, periodEnd: mar });
  const inv3 = w.invoice({ billingReason: "subscription_cycle", status: "open", periodStart: mar, periodEnd: apr });

  const s0 = { sub: w.sub({ status: "incomplete", latestInvoice: inv1Id }), session: w.session({ payment_status: "unpaid" }), inv1: inv1("open") };
  const s1 = { sub: w.sub({ status: "active" }), session: w.session(), inv1: inv1("paid") };
  const s2 = w.sub({ periodStart: feb, periodEnd: mar, latestInvoice: inv2.id });
  const s3 = w.sub({ status: "past_due", periodStart: mar, periodEnd: apr, latestInvoice: inv3.id });
  const s4 = w.sub({ status: "canceled", canceledAt: endedAt, endedAt });
  return {
    name: "incomplete -> active -> renewed -> past_due -> canceled",
    email: w.email,
    sessionId: w.sessionId,
    issuesFrom: 1,
    steps: [
      {
        name: "incomplete",
        at: at("2031-01-01T00:05:00Z"),
        objects: [s0.sub, s0.session, s0.inv1],
        events: [ev("sub", "customer.subscription.created", s0.sub), ev("session", "checkout.session.completed", s0.session)],
      },
      {
        name: "active",
        at: at("2031-01-01T00:30:00Z"),
        objects: [s1.sub, s1.session, s1.inv1],
        events: [
          ev("inv1", "invoice.paid", s1.inv1),
          ev("sub", "customer.subscription.updated", s1.sub),
          ev("session", "checkout.session.async_payment_succeeded", s1.session),
        ],
      },
      {
        name: "renewed",
        at: at("2031-02-01T01:00:00Z"),
        objects: [inv2, s2],
        events: [ev("inv2", "invoice.paid", inv2), ev("inv2", "invoice.payment_succeeded", inv2), ev("sub", "customer.subscription.updated", s2)],
      },
      {
        name: "past_due",
        at: at("2031-03-02T00:00:00Z"),
        objects: [inv3, s3],
        events: [ev("inv3", "invoice.payment_failed", inv3), ev("sub", "customer.subscription.updated", s3)],
      },
      { name: "canceled", at: at("2031-03-20T12:00:00Z"), objects: [s4], events: [ev("sub", "customer.subscription.deleted", s4)] },
    ],
    expected: { status: "expired", statusReason: null, expiresAt: endedAt.toISOString(), cancelAt: null, autoRenews: false, trialEndsAt: null },
    emails: (id) => [
      issued(id, w.sessionId),
      // The renewal sets the expiry while the subscription is renewed (its period end) and past due (its start).
      receipt(id, inv2, mar, (seen) => [2, 3].includes(seen.togetherAt("license", "inv2"))),
      // Only while past due: once cancelled the license has expired and there is nothing left to pay for.
      paymentFailed(id, inv3, day("2031-03-08"), (seen) => seen.togetherAt("license", "inv3") === 3),
      expired(id, endedAt),
    ],
  };
}

/**
 * A renewal's payment fails (the same invoice open, then paid by Stripe's retry), then a cancellation is
 * scheduled for the period end and undone. The plan behind `priceId` must have 7 grace days.
 */
export function recoveredRenewal(fake: FakeStripe, priceId: string): History {
  const [jan, feb, mar] = [day("2031-01-01"), day("2031-02-01"), day("2031-03-01")];
  const w = subscriptionWorld(fake, { tag: "retry", priceId, periodStart: jan, periodEnd: feb });
  const inv1 = w.invoice({ billingReason: "subscription_create", periodStart: jan, periodEnd: feb });
  const inv2Id = randomId("in");
  const pi2 = randomId("pi");
  const inv2 = (status: "open" | "paid") => w.invoice({ id: inv2Id, status, paymentIntent: pi2, billingReason: "subscription_cycle", periodStart: feb, periodEnd: mar });
  const s0 = { sub: w.sub({ status: "active", latestInvoice: inv1.id }), session: w.session() };
  const s1 = { sub: w.sub({ status: "past_due", periodStart: feb, periodEnd: mar, latestInvoice: inv2Id }), inv2: inv2("open") };
  const s2 = { sub: w.sub({ status: "active" }), inv2: inv2("paid") };
  const s3 = w.sub({ cancelAtPeriodEnd: true, cancelAt: mar });
  const s4 = w.sub({ cancelAtPeriodEnd: false, cancelAt: null });
  return {
    name: "renewal fails, retried and paid, cancellation scheduled then undone",
    email: w.email,
    sessionId: w.sessionId,
    issuesFrom: 0,
    steps: [
      paidCheckout(s0, inv1),
      {
        name: "payment failed",
        at: at("2031-02-01T01:00:00Z"),
        objects: [s1.inv2, s1.sub],
        events: [ev("inv2", "invoice.payment_failed", s1.inv2), ev("sub", "customer.subscription.updated", s1.sub)],
      },
      {
        name: "retry paid",
        at: at("2031-02-03T00:00:00Z"),
        objects: [s2.inv2, s2.sub],
        events: [ev("inv2", "invoice.paid", s2.inv2), ev("inv2", "invoice.payment_succeeded", s2.inv2), ev("sub", "customer.subscription.updated", s2.sub)],
      },
      { name: "cancellation scheduled", at: at("2031-02-10T00:00:00Z"), objects: [s3], events: [ev("sub", "customer.subscription.updated", s3)] },
      { name: "cancellation undone", at: at("2031-02-12T00:00:00Z"), objects: [s4], events: [ev("sub", "customer.subscription.updated", s4)] },
    ],
    expected: { status: "active", statusReason: null, expiresAt: mar.toISOString(), cancelAt: null, autoRenews: true, trialEndsAt: null },
    emails: (id) => [
      issued(id, w.sessionId),
      // Only if the invoice was first read while still open: read late, it is already paid.
      paymentFailed(id, s1.inv2, day("2031-02-08"), (seen) => seen.togetherAt("license", "inv2") === 1),
      // Its paid version is read at the retry or later, and sets the expiry from then on.
      receipt(id, s2.inv2, mar, undefined),
      {
        email: { template: "cancellation-scheduled", props: { licenseId: id, endsAt: mar.toISOString() } },
        when: (seen) => seen.sawWithLicense(3),
      },
    ],
  };
}

/** A free trial with a $0 first invoice, then either paid at its end and renewed, or its payment failed and the subscription cancelled. */
export function trial(fake: FakeStripe, priceId: string, ending: "converts" | "lapses"): History {
  const [jan1, jan15, feb15, mar15] = [day("2031-01-01"), day("2031-01-15"), day("2031-02-15"), day("2031-03-15")];
  const w = subscriptionWorld(fake, { tag: "trial", priceId, periodStart: jan1, periodEnd: jan15 });
  const inv0 = w.invoice({ billingReason: "subscription_create", amount: 0, paymentIntent: null, periodStart: jan1, periodEnd: jan15 });
  const s0 = { sub: w.sub({ status: "trialing", trialStart: jan1, trialEnd: jan15, latestInvoice: inv0.id }), session: w.session({ payment_status: "no_payment_required", amount_total: 0 }) };
  const first: HistoryStep = {
    name: "trialing",
    at: at("2031-01-02T00:00:00Z"),
    objects: [s0.sub, s0.session, inv0],
    events: [ev("session", "checkout.session.completed", s0.session), ev("sub", "customer.subscription.created", s0.sub), ev("inv0", "invoice.paid", inv0)],
  };
  if (ending === "converts") {
    const inv1 = w.invoice({ billingReason: "subscription_cycle", periodStart: jan15, periodEnd: feb15 });
    const s1 = w.sub({ status: "active", periodStart: jan15, periodEnd: feb15, latestInvoice: inv1.id });
    const inv2 = w.invoice({ billingReason: "subscription_cycle", periodStart: feb15, periodEnd: mar15 });
    const s2 = w.sub({ periodStart: feb15, periodEnd: mar15, latestInvoice: inv2.id });
    return {
      name: "trialing -> active -> renewed",
      email: w.email,
      sessionId: w.sessionId,
      issuesFrom: 0,
      steps: [
        first,
        { name: "converted", at: at("2031-01-15T01:00:00Z"), objects: [inv1, s1], events: [ev("inv1", "invoice.paid", inv1), ev("sub", "customer.subscription.updated", s1)] },
        { name: "renewed", at: at("2031-02-15T01:00:00Z"), objects: [inv2, s2], events: [ev("inv2", "invoice.paid", inv2), ev("sub", "customer.subscription.updated", s2)] },
      ],
      expected: { status: "active", statusReason: null, expiresAt: mar15.toISOString(), cancelAt: null, autoRenews: true, trialEndsAt: null },
      emails: (id) => [
        issued(id, w.sessionId),
        receipt(id, inv1, feb15, (seen) => seen.togetherAt("license", "inv1") === 1),
        // Its renewal is the last step: whenever it is seen, it sets the expiry.
        receipt(id, inv2, mar15, undefined),
      ],
    };
  }
  const endedAt = day("2031-01-25");
  const inv1 = w.invoice({ billingReason: "subscription_cycle", status: "open", periodStart: jan15, periodEnd: feb15 });
  const s1 = w.sub({ status: "past_due", periodStart: jan15, periodEnd: feb15, latestInvoice: inv1.id });
  const s2 = w.sub({ status: "canceled", canceledAt: endedAt, endedAt });
  return {
    name: "trialing -> trial ends unpaid (past_due) -> canceled",
    email: w.email,
    sessionId: w.sessionId,
    issuesFrom: 0,
    steps: [
      first,
      { name: "unpaid", at: at("2031-01-15T01:00:00Z"), objects: [inv1, s1], events: [ev("inv1", "invoice.payment_failed", inv1), ev("sub", "customer.subscription.updated", s1)] },
      { name: "canceled", at: at("2031-01-25T12:00:00Z"), objects: [s2], events: [ev("sub", "customer.subscription.deleted", s2)] },
    ],
    expected: { status: "expired", statusReason: null, expiresAt: endedAt.toISOString(), cancelAt: null, autoRenews: false, trialEndsAt: null },
    emails: (id) => [
      issued(id, w.sessionId),
      paymentFailed(id, inv1, day("2031-01-22"), (seen) => seen.togetherAt("license", "inv1") === 1),
      expired(id, endedAt),
    ],
  };
}

/** Active, paused (suspended), resumed with a new billing period. */
export function pauseResume(fake: FakeStripe, priceId: string): History {
  const [jan1, feb1, jan20, feb20] = [day("2031-01-01"), day("2031-02-01"), day("2031-01-20"), day("2031-02-20")];
  const w = subscriptionWorld(fake, { tag: "pause", priceId, periodStart: jan1, periodEnd: feb1 });
  const inv1 = w.invoice({ billingReason: "subscription_create", periodStart: jan1, periodEnd: feb1 });
  const s0 = { sub: w.sub({ status: "active", latestInvoice: inv1.id }), session: w.session() };
  const s1 = w.sub({ status: "paused" });
  const s2 = w.sub({ status: "active", periodStart: jan20, periodEnd: feb20 });
  return {
    name: "active -> paused -> resumed",
    email: w.email,
    sessionId: w.sessionId,
    issuesFrom: 0,
    steps: [
      paidCheckout(s0, inv1),
      { name: "paused", at: at("2031-01-10T00:00:00Z"), objects: [s1], events: [ev("sub", "customer.subscription.paused", s1), ev("sub", "customer.subscription.updated", s1)] },
      { name: "resumed", at: at("2031-01-20T00:10:00Z"), objects: [s2], events: [ev("sub", "customer.subscription.resumed", s2), ev("sub", "customer.subscription.updated", s2)] },
    ],
    expected: { status: "active", statusReason: null, expiresAt: feb20.toISOString(), cancelAt: null, autoRenews: true, trialEndsAt: null },
    emails: (id) => [
      issued(id, w.sessionId),
      // Told only if some processing saw the pause with the license issued; then the resumption is told too.
      { email: { template: "license-status-changed", props: { licenseId: id, status: "suspended", reason: REASONS.paused } }, when: (seen) => seen.sawWithLicense(1) },
      { email: { template: "license-status-changed", props: { licenseId: id, status: "reinstated", reason: null } }, when: (seen) => seen.sawWithLicense(1) },
    ],
  };
}

/** Bought at price A (plan `a`, `seatsA` seats), moved to price B (plan `b`), then to quantity 2. */
export function planChange(fake: FakeStripe, prices: { a: string; b: string }, plans: { a: string; b: string; seatsA: number }): History {
  const [jan1, feb1] = [day("2031-01-01"), day("2031-02-01")];
  const w = subscriptionWorld(fake, { tag: "plan", priceId: prices.a, periodStart: jan1, periodEnd: feb1 });
  const inv1 = w.invoice({ billingReason: "subscription_create", periodStart: jan1, periodEnd: feb1 });
  const s0 = { sub: w.sub({ status: "active", latestInvoice: inv1.id }), session: w.session() };
  const s1 = w.sub({ priceId: prices.b });
  const s2 = w.sub({ quantity: 2 });
  return {
    name: "price A -> price B -> quantity 2",
    email: w.email,
    sessionId: w.sessionId,
    issuesFrom: 0,
    steps: [
      paidCheckout(s0, inv1, "price A"),
      { name: "price B", at: at("2031-01-05T00:00:00Z"), objects: [s1], events: [ev("sub", "customer.subscription.updated", s1)] },
      { name: "quantity 2", at: at("2031-01-08T00:00:00Z"), objects: [s2], events: [ev("sub", "customer.subscription.updated", s2)] },
    ],
    expected: { status: "active", expiresAt: feb1.toISOString(), planId: plans.b, stripePriceId: prices.b, autoRenews: true },
    emails: (id) => [
      issued(id, w.sessionId),
      // A license issued after the change starts on plan B: there was no change for its buyer to hear about.
      {
        email: { template: "plan-changed", props: { licenseId: id, fromPlanId: plans.a, toPlanId: plans.b, previousSeats: plans.seatsA } },
        when: (seen) => seen.landedAt() === 0,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Delivery schedules

export type Delivery = { about: string; event: Json };
export type Schedule = {
  name: string;
  /** What is delivered while Stripe is at each step, in this order. */
  at: Delivery[][];
  /** Never delivered by the webhook: only the reconciliation's listing brings them. */
  lost: Delivery[];
  /** Each step's deliveries are processed at the same time (as several workers would), not one after another. */
  together?: boolean;
};

/** Each event as Stripe sends it: at its own step, in order, once. */
export function inOrder(h: History): Schedule {
  return { name: "in order", at: h.steps.map((s) => [...s.events]), lost: [] };
}

/** Nothing delivered until the last step, then everything, last first. */
export function allLateReversed(h: History): Schedule {
  const all = h.steps.flatMap((s) => s.events).reverse();
  return { name: "all late, last first", at: h.steps.map((_, k) => (k === h.steps.length - 1 ? all : [])), lost: [] };
}

/** A small seeded generator (mulberry32), so a failing schedule can be named and replayed. */
export function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random schedule: each event is delivered at its own step or later (never before Stripe sends it), some are
 * lost (reconciliation finds them), some come twice under their own id (a redelivery) or again under a new id (a
 * sibling event or a replay), and each step's deliveries are shuffled (or, `together`, processed at once).
 */
export function randomSchedule(h: History, seed: number, opts: { together?: boolean } = {}): Schedule {
  const rand = seeded(seed);
  const n = h.steps.length;
  const later = (k: number) => k + Math.floor(rand() * (n - k));
  const at: Delivery[][] = h.steps.map(() => []);
  const lost: Delivery[] = [];
  h.steps.forEach((s, k) => {
    for (const d of s.events) {
      if (rand() < 0.15) lost.push(d);
      else at[rand() < 0.4 ? k : later(k)]!.push(d);
      if (rand() < 0.25) at[later(k)]!.push(d);
      if (rand() < 0.25) at[later(k)]!.push({ about: d.about, event: cloneEvent(d.event) });
    }
  });
  for (const slot of at) {
    for (let i = slot.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [slot[i], slot[j]] = [slot[j]!, slot[i]!];
    }
  }
  return { name: `random #${seed}${opts.together ? ", each step at once" : ""}`, at, lost, together: opts.together };
}
