import Stripe from "stripe";
import { createCaller } from "@/server/api/root";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { activations, auditLog, customers, emailOutbox, licenses, payments, stripeCharges, stripeEvents } from "@/server/db/schema";
import { processStripeEvent, type ProcessDeps } from "@/server/domain/billing/apply-stripe-event";
import { REASONS } from "@/server/domain/billing/license-state";
import { storeStripeEvent, StripeEventEnvelope } from "@/server/domain/billing/store-event";
import { stripeConfigForUrl } from "@/server/domain/billing/stripe-client";
import { setClock } from "@/server/domain/clock";
import { reinstateLicense, suspendLicense } from "@/server/domain/licensing/lifecycle";
import { validateLicense } from "@/server/domain/licensing/validate";
import { SYSTEM } from "@/server/domain/audit/record";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makeLicense, makePlan } from "./helpers/factories";
import { adminSession } from "./helpers/trpc";
import {
  chargeObject,
  checkoutSessionObject,
  disputeObject,
  invoiceObject,
  randomId,
  refundObject,
  startFakeStripe,
  stripeEvent,
  subscriptionObject,
  type FakeStripe,
  type SubscriptionSpec,
} from "./helpers/fake-stripe";
import { day } from "./helpers/stripe-scenarios";

/**
 * Each Stripe-driven change of issue 3, in the order Stripe would normally send it, with the fake API's objects
 * moving forward between events as they would on Stripe: the license state, the audit trail and the email owed
 * after each step. (Out-of-order delivery is stripe-order.test.ts.)
 */
describe("Stripe lifecycle", () => {
  let database: TestDb;
  let fake: FakeStripe;
  let deps: ProcessDeps;

  beforeAll(async () => {
    database = await createTestDatabase("lifecycle");
    await useProcessDatabase(database.url);
    fake = await startFakeStripe();
    deps = { db: database.db, stripe: () => new Stripe("sk_test_x", stripeConfigForUrl(fake.url)), retryBaseMs: 50 };
  });
  afterAll(async () => {
    setClock(undefined);
    await fake?.stop();
    await database?.drop();
  });
  afterEach(() => setClock(undefined));

  const db = () => database.db;
  const at = (iso: string) => setClock(() => new Date(iso.length === 10 ? `${iso}T12:00:00.000Z` : iso));
  const deliver = async (type: string, object: Record<string, any>) => {
    const event = stripeEvent(type, object);
    expect(await storeStripeEvent(db(), StripeEventEnvelope.parse(event), "webhook")).toBe(true);
    const outcome = await processStripeEvent(event.id, deps);
    expect(outcome.status, JSON.stringify(outcome)).toBe("processed");
    return { event, outcome: outcome as { status: "processed"; result: Record<string, unknown> } };
  };
  const license = async (id: string) => (await db().select().from(licenses).where(eq(licenses.id, id)))[0]!;
  const emailsTo = async (to: string) =>
    (await db().select().from(emailOutbox).where(eq(emailOutbox.to, to)).orderBy(emailOutbox.createdAt)).map((e) => ({
      template: e.template,
      props: e.props,
    }));
  const iso = (s: string) => day(s).toISOString();

  /** A plan bound to a fresh price, a Stripe customer, and helpers to move one subscription forward. */
  async function subscriptionWorld(opts: { seats?: number; graceDays?: number } = {}) {
    const priceId = randomId("price");
    const plan = await makePlan(db(), { seats: opts.seats ?? 2, graceDays: opts.graceDays ?? 7, stripePriceIds: [priceId] });
    const email = `sub-${randomId("x")}@example.com`;
    const customer = fake.addCustomer({ email });
    const subId = randomId("sub");
    const itemId = randomId("si");
    let spec: SubscriptionSpec = { id: subId, itemId, customer: customer.id, priceId, periodStart: day("2031-01-01"), periodEnd: day("2031-02-01") };
    const sub = (over: Partial<SubscriptionSpec> = {}) => {
      spec = { ...spec, ...over };
      return fake.put(subscriptionObject(spec));
    };
    const invoice = (over: Partial<Parameters<typeof invoiceObject>[0]> & { periodStart: Date; periodEnd: Date }) =>
      fake.put(invoiceObject({ subscription: subId, subscriptionItem: itemId, customer: customer.id, priceId, ...over }));
    const checkout = async (over: Record<string, unknown> = {}) => {
      const session = checkoutSessionObject({ email, mode: "subscription", subscription: subId, customer: customer.id, payment_intent: null, ...over });
      fake.sessions.set(session.id, session);
      fake.lineItems.set(session.id, [{ id: randomId("li"), object: "item", quantity: 1, price: { id: priceId, object: "price" } }]);
      await deliver("checkout.session.completed", session);
      const [l] = await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, session.id));
      return l!;
    };
    return { plan, priceId, email, customer, subId, itemId, sub, invoice, checkout };
  }

  it("runs a subscription from checkout through renewals, a failed and retried payment, cancellation and its end", async () => {
    const w = await subscriptionWorld({ seats: 2, graceDays: 7 });
    at("2031-01-01");
    w.sub({ status: "active" });
    const issued = await w.checkout();
    // Expires at the period end (validation adds the plan's 7 grace days on top), renews by itself, follows the price.
    expect(issued).toMatchObject({
      status: "active",
      stripeSubscriptionId: w.subId,
      stripePriceId: w.priceId,
      autoRenews: true,
      cancelAt: null,
      trialEndsAt: null,
      maxActivations: 2,
      planId: w.plan.id,
    });
    expect(issued.expiresAt?.toISOString()).toBe(iso("2031-02-01"));
    expect(await emailsTo(w.email)).toEqual([{ template: "license-issued", props: expect.objectContaining({ licenseIds: [issued.id] }) }]);

    // The first invoice changes nothing the checkout did not already do, and sends nothing.
    const inv1 = w.invoice({ billingReason: "subscription_create", periodStart: day("2031-01-01"), periodEnd: day("2031-02-01") });
    w.sub({ latestInvoice: inv1.id });
    await deliver("invoice.paid", inv1);
    expect((await license(issued.id)).updatedAt.getTime()).toBe(issued.updatedAt.getTime());
    expect(await emailsTo(w.email)).toHaveLength(1);
    const [p1] = await db().select().from(payments).where(eq(payments.stripeInvoiceId, inv1.id));
    expect(p1).toMatchObject({ kind: "subscription_invoice", licenseId: issued.id, status: "paid", amount: 2000, billingReason: "subscription_create" });

    // Renewal: invoice.paid for the cycle arrives (Stripe's subscription already shows the new period).
    at("2031-02-01T01:00:00Z");
    const inv2 = w.invoice({ billingReason: "subscription_cycle", periodStart: day("2031-02-01"), periodEnd: day("2031-03-01") });
    w.sub({ periodStart: day("2031-02-01"), periodEnd: day("2031-03-01"), latestInvoice: inv2.id });
    await deliver("invoice.paid", inv2);
    let l = await license(issued.id);
    expect(l.expiresAt?.toISOString()).toBe(iso("2031-03-01"));
    expect(l.status).toBe("active");
    const [p2] = await db().select().from(payments).where(eq(payments.stripeInvoiceId, inv2.id));
    expect(p2!.expiresAtBefore?.toISOString()).toBe(iso("2031-02-01"));
    expect(p2!.expiresAtAfter?.toISOString()).toBe(iso("2031-03-01"));
    // Its sibling events (payment_succeeded, the subscription's own update) change and send nothing more.
    await deliver("invoice.payment_succeeded", inv2);
    await deliver("customer.subscription.updated", w.sub());
    expect((await emailsTo(w.email)).map((e) => e.template)).toEqual(["license-issued", "renewal-receipt"]);
    expect((await emailsTo(w.email))[1]!.props).toEqual({ licenseId: issued.id, invoiceId: inv2.id, renewedUntil: iso("2031-03-01") });

    // The next renewal fails: past_due, still valid through the grace days, told where to pay.
    at("2031-03-02");
    const inv3 = w.invoice({ billingReason: "subscription_cycle", status: "open", periodStart: day("2031-03-01"), periodEnd: day("2031-04-01") });
    w.sub({ status: "past_due", periodStart: day("2031-03-01"), periodEnd: day("2031-04-01"), latestInvoice: inv3.id });
    await deliver("invoice.payment_failed", inv3);
    l = await license(issued.id);
    expect(l.status).toBe("past_due");
    expect(l.expiresAt?.toISOString()).toBe(iso("2031-03-01"));
    const key = await keyOf(issued.id);
    expect(await validateLicense(db(), { key })).toMatchObject({ valid: true, code: "VALID", license: { status: "past_due" } });
    const failed = (await emailsTo(w.email)).filter((e) => e.template === "payment-failed");
    expect(failed).toEqual([
      {
        template: "payment-failed",
        props: { licenseId: issued.id, invoiceId: inv3.id, graceEndsAt: iso("2031-03-08"), fixPaymentUrl: inv3.hosted_invoice_url },
      },
    ]);
    // Stripe retries and fails again: one email per invoice, not per attempt.
    await deliver("invoice.payment_failed", inv3);
    expect((await emailsTo(w.email)).filter((e) => e.template === "payment-failed")).toHaveLength(1);

    // The retry succeeds: active again, renewed to April, receipt.
    at("2031-03-04");
    fake.put({ ...inv3, status: "paid", amount_paid: inv3.amount_due, payments: { ...inv3.payments, data: [{ ...inv3.payments.data[0], status: "paid" }] } });
    w.sub({ status: "active" });
    await deliver("invoice.paid", inv3);
    l = await license(issued.id);
    expect(l).toMatchObject({ status: "active", autoRenews: true });
    expect(l.expiresAt?.toISOString()).toBe(iso("2031-04-01"));
    expect((await emailsTo(w.email)).at(-1)).toEqual({
      template: "renewal-receipt",
      props: { licenseId: issued.id, invoiceId: inv3.id, renewedUntil: iso("2031-04-01") },
    });

    // Cancel at period end: valid until then, no renewal, told the date. Undone: renews again, no email.
    at("2031-03-10");
    await deliver("customer.subscription.updated", w.sub({ cancelAtPeriodEnd: true, cancelAt: day("2031-04-01") }));
    l = await license(issued.id);
    expect(l).toMatchObject({ status: "active", autoRenews: false });
    expect(l.cancelAt?.toISOString()).toBe(iso("2031-04-01"));
    expect((await emailsTo(w.email)).at(-1)).toEqual({ template: "cancellation-scheduled", props: { licenseId: issued.id, endsAt: iso("2031-04-01") } });
    const count = (await emailsTo(w.email)).length;
    await deliver("customer.subscription.updated", w.sub({ cancelAtPeriodEnd: false, cancelAt: null }));
    l = await license(issued.id);
    expect(l).toMatchObject({ autoRenews: true, cancelAt: null });
    expect(await emailsTo(w.email)).toHaveLength(count);
    // Cancelled again for a different date (cancel_at): a new email for the new date.
    await deliver("customer.subscription.updated", w.sub({ cancelAt: day("2031-03-20") }));
    expect((await emailsTo(w.email)).at(-1)).toEqual({ template: "cancellation-scheduled", props: { licenseId: issued.id, endsAt: iso("2031-03-20") } });

    // The subscription ends on that date: expired then, no renewal, told once.
    at("2031-03-20T00:00:05Z");
    await deliver("customer.subscription.deleted", w.sub({ status: "canceled", endedAt: day("2031-03-20"), canceledAt: day("2031-03-20"), cancelAt: day("2031-03-20") }));
    l = await license(issued.id);
    expect(l).toMatchObject({ status: "expired", autoRenews: false, cancelAt: null });
    expect(l.expiresAt?.toISOString()).toBe(iso("2031-03-20"));
    expect((await emailsTo(w.email)).at(-1)).toEqual({ template: "license-expired", props: { licenseId: issued.id, expiredAt: iso("2031-03-20") } });
    expect(await validateLicense(db(), { key })).toMatchObject({ valid: false, code: "EXPIRED" });

    // Every change is audited by the event that made it, in the same transaction.
    const audits = await db().select().from(auditLog).where(and(eq(auditLog.subjectType, "license"), eq(auditLog.subjectId, issued.id)));
    expect(audits.every((a) => a.actorType === "stripe" && a.actorId?.startsWith("evt_"))).toBe(true);
    expect(audits.map((a) => a.action)).toEqual(["license.issued", ...Array(audits.length - 1).fill("license.stripe_synced")]);
    const templates = (await emailsTo(w.email)).map((e) => e.template);
    expect(templates).toEqual([
      "license-issued",
      "renewal-receipt",
      "payment-failed",
      "renewal-receipt",
      "cancellation-scheduled",
      "cancellation-scheduled",
      "license-expired",
    ]);
  });

  it("a trial is a license that ends with the trial unless payment follows", async () => {
    // Converts: the trial license becomes a paid one.
    const w = await subscriptionWorld();
    at("2031-01-02");
    w.sub({ status: "trialing", trialStart: day("2031-01-01"), trialEnd: day("2031-01-15"), periodStart: day("2031-01-01"), periodEnd: day("2031-01-15") });
    const trial = await w.checkout({ payment_status: "no_payment_required", amount_total: 0 });
    expect(trial).toMatchObject({ status: "active", autoRenews: true });
    expect(trial.trialEndsAt?.toISOString()).toBe(iso("2031-01-15"));
    expect(trial.expiresAt?.toISOString()).toBe(iso("2031-01-15"));
    await deliver("invoice.paid", w.invoice({ billingReason: "subscription_create", amount: 0, paymentIntent: null, periodStart: day("2031-01-01"), periodEnd: day("2031-01-15") }));
    at("2031-01-15T01:00:00Z");
    const first = w.invoice({ billingReason: "subscription_cycle", periodStart: day("2031-01-15"), periodEnd: day("2031-02-15") });
    w.sub({ status: "active", periodStart: day("2031-01-15"), periodEnd: day("2031-02-15"), latestInvoice: first.id });
    await deliver("invoice.paid", first);
    const paid = await license(trial.id);
    expect(paid).toMatchObject({ status: "active", trialEndsAt: null });
    expect(paid.expiresAt?.toISOString()).toBe(iso("2031-02-15"));

    // Does not convert: Stripe ends the subscription with the trial.
    const v = await subscriptionWorld();
    at("2031-01-02");
    v.sub({ status: "trialing", trialStart: day("2031-01-01"), trialEnd: day("2031-01-15"), periodStart: day("2031-01-01"), periodEnd: day("2031-01-15") });
    const lapsed = await v.checkout({ payment_status: "no_payment_required", amount_total: 0 });
    at("2031-01-15T00:01:00Z");
    await deliver("customer.subscription.deleted", v.sub({ status: "canceled", endedAt: day("2031-01-15"), canceledAt: day("2031-01-15") }));
    const ended = await license(lapsed.id);
    expect(ended).toMatchObject({ status: "expired", trialEndsAt: null, autoRenews: false });
    expect(ended.expiresAt?.toISOString()).toBe(iso("2031-01-15"));
  });

  it("a price change moves the license to the new plan, keeping key and activations; a downgrade keeps the most recently seen machines", async () => {
    const w = await subscriptionWorld({ seats: 5 });
    const smallPrice = randomId("price");
    const small = await makePlan(db(), { productId: w.plan.productId, seats: 2, graceDays: 3, entitlements: ["basic"], stripePriceIds: [smallPrice] });
    at("2031-01-05");
    w.sub({ status: "active" });
    const l0 = await w.checkout();
    expect(l0.maxActivations).toBe(5);
    // Four machines, seen at different times.
    const seen = ["2031-01-01", "2031-01-04", "2031-01-02", "2031-01-03"];
    await db().insert(activations).values(seen.map((s, i) => ({ licenseId: l0.id, fingerprint: `fp-${i}`, lastSeenAt: new Date(`${s}T00:00:00Z`) })));

    await deliver("customer.subscription.updated", w.sub({ priceId: smallPrice }));
    const l1 = await license(l0.id);
    expect(l1).toMatchObject({ planId: small.id, maxActivations: 2, stripePriceId: smallPrice, keyHash: l0.keyHash });
    const kept = await db().select().from(activations).where(eq(activations.licenseId, l0.id));
    expect(kept.map((a) => a.fingerprint).sort()).toEqual(["fp-1", "fp-3"]);
    expect((await emailsTo(w.email)).at(-1)).toEqual({
      template: "plan-changed",
      props: { licenseId: l0.id, fromPlanId: w.plan.id, toPlanId: small.id, previousSeats: 5 },
    });
    const [audit] = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, l0.id), eq(auditLog.action, "license.stripe_synced")));
    expect(audit!.metadata).toMatchObject({ removedActivations: 2 });
    // Entitlements come with the plan.
    expect(await validateLicense(db(), { key: await keyOf(l0.id), entitlements: ["basic"] })).toMatchObject({ valid: true });

    // More units of the same price: seats x quantity, nobody removed, no plan email.
    const before = (await emailsTo(w.email)).length;
    const sub = w.sub();
    sub.items.data[0].quantity = 3;
    fake.put(sub);
    await deliver("customer.subscription.updated", sub);
    expect(await license(l0.id)).toMatchObject({ planId: small.id, maxActivations: 6 });
    expect(await db().select().from(activations).where(eq(activations.licenseId, l0.id))).toHaveLength(2);
    expect(await emailsTo(w.email)).toHaveLength(before);

    // A price bound to no plan: the license keeps its plan, and the event says why.
    const { outcome } = await deliver("customer.subscription.updated", w.sub({ priceId: randomId("price") }));
    expect(await license(l0.id)).toMatchObject({ planId: small.id });
    expect(JSON.stringify(outcome.result)).toContain("unboundPriceId");
  });

  it("a seat decrease keeps the same machines whichever door it comes through: a Stripe quantity decrease, an admin's seats or plan change", async () => {
    // Five machines seen at different times (two of them at the same instant: the newer activation wins the tie).
    const seen = ["2031-01-01", "2031-01-04", "2031-01-02", "2031-01-04", "2031-01-03"];
    const machines = async (licenseId: string) => {
      for (const [i, s] of seen.entries()) {
        await db().insert(activations).values({ licenseId, fingerprint: `fp-${i}`, lastSeenAt: day(s), createdAt: new Date(day("2030-12-01").getTime() + i * 1000) });
      }
    };
    const left = async (licenseId: string) =>
      (await db().select().from(activations).where(eq(activations.licenseId, licenseId))).map((a) => a.fingerprint).sort();
    const survivors = ["fp-1", "fp-3"];

    // Stripe: 3 units of a 2-seat plan, then 1 unit.
    const w = await subscriptionWorld({ seats: 2 });
    at("2031-01-05");
    const sub = w.sub({ status: "active" });
    sub.items.data[0].quantity = 3;
    fake.put(sub);
    const viaStripe = await w.checkout();
    expect(viaStripe.maxActivations).toBe(6);
    await machines(viaStripe.id);
    sub.items.data[0].quantity = 1;
    fake.put(sub);
    await deliver("customer.subscription.updated", sub);
    expect(await license(viaStripe.id)).toMatchObject({ maxActivations: 2 });
    expect(await left(viaStripe.id)).toEqual(survivors);
    const [synced] = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, viaStripe.id), eq(auditLog.action, "license.stripe_synced")));
    expect(synced!.metadata).toMatchObject({ removedActivations: 3, fingerprints: ["fp-0", "fp-2", "fp-4"] });

    // The admin app, both ways of lowering seats: the same machines stay, and the audit row says which went.
    const admin = createCaller({ db: db(), session: adminSession("seats@example.com"), headers: new Headers() }).licenses;
    const bySeats = await makeLicense(db(), { planId: w.plan.id, maxActivations: 6 });
    await machines(bySeats.license.id);
    expect((await admin.changeSeats({ id: bySeats.license.id, seats: 2 })).license).toMatchObject({ maxActivations: 2, activations: 2 });
    expect(await left(bySeats.license.id)).toEqual(survivors);
    const [audit] = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, bySeats.license.id), eq(auditLog.action, "license.seats_changed")));
    expect(audit!.metadata).toEqual({ removedActivations: 3, fingerprints: ["fp-0", "fp-2", "fp-4"] });

    const smaller = await makePlan(db(), { productId: w.plan.productId, seats: 2 });
    const byPlan = await makeLicense(db(), { planId: w.plan.id, maxActivations: 6 });
    await machines(byPlan.license.id);
    expect((await admin.changePlan({ id: byPlan.license.id, plan: smaller.slug, seats: 2 })).license).toMatchObject({ maxActivations: 2 });
    expect(await left(byPlan.license.id)).toEqual(survivors);
  });

  it("paused: suspended; resumed: active again", async () => {
    const w = await subscriptionWorld();
    at("2031-01-05");
    w.sub({ status: "active" });
    const l = await w.checkout();
    await deliver("customer.subscription.paused", w.sub({ status: "paused" }));
    expect(await license(l.id)).toMatchObject({ status: "suspended", statusReason: REASONS.paused });
    expect((await emailsTo(w.email)).at(-1)).toEqual({
      template: "license-status-changed",
      props: { licenseId: l.id, status: "suspended", reason: REASONS.paused },
    });
    at("2031-01-20");
    await deliver("customer.subscription.resumed", w.sub({ status: "active", periodStart: day("2031-01-20"), periodEnd: day("2031-02-20") }));
    const resumed = await license(l.id);
    expect(resumed).toMatchObject({ status: "active", statusReason: null });
    expect(resumed.expiresAt?.toISOString()).toBe(iso("2031-02-20"));
    expect((await emailsTo(w.email)).at(-1)).toEqual({ template: "license-status-changed", props: { licenseId: l.id, status: "reinstated", reason: null } });
  });

  it("an admin's suspension, or reinstatement, stands through renewals; a new Stripe fact still applies", async () => {
    const w = await subscriptionWorld();
    at("2031-01-05");
    w.sub({ status: "active" });
    const l = await w.checkout();
    await db().transaction((tx) => suspendLicense(tx, { type: "admin", id: "ops@example.com" }, l.id, { reason: "Abuse report" }));
    at("2031-02-01T01:00:00Z");
    const inv = w.invoice({ periodStart: day("2031-02-01"), periodEnd: day("2031-03-01") });
    w.sub({ periodStart: day("2031-02-01"), periodEnd: day("2031-03-01"), latestInvoice: inv.id });
    await deliver("invoice.paid", inv);
    const renewed = await license(l.id);
    expect(renewed).toMatchObject({ status: "suspended", statusReason: "Abuse report" });
    expect(renewed.expiresAt?.toISOString()).toBe(iso("2031-03-01"));
    await db().transaction((tx) => reinstateLicense(tx, SYSTEM, l.id, {}));
    expect((await license(l.id)).status).toBe("active");

    // A dispute suspends it; an admin reinstates it anyway; a renewal does not suspend it again; the dispute's
    // loss (a new fact) revokes it.
    const pi = inv.payments.data[0].payment.payment_intent;
    const ch = fake.put(chargeObject({ paymentIntent: pi, amount: 2000 }));
    const dp = fake.put(disputeObject({ charge: ch.id, paymentIntent: pi, status: "needs_response" }));
    await deliver("charge.dispute.created", dp);
    expect((await license(l.id)).status).toBe("suspended");
    await db().transaction((tx) => reinstateLicense(tx, SYSTEM, l.id, {}));
    at("2031-03-01T01:00:00Z");
    const inv3 = w.invoice({ periodStart: day("2031-03-01"), periodEnd: day("2031-04-01") });
    w.sub({ periodStart: day("2031-03-01"), periodEnd: day("2031-04-01"), latestInvoice: inv3.id });
    await deliver("invoice.paid", inv3);
    expect(await license(l.id)).toMatchObject({ status: "active" });
    await deliver("charge.dispute.closed", fake.put({ ...dp, status: "lost" }));
    expect(await license(l.id)).toMatchObject({ status: "revoked", statusReason: REASONS.disputeLost });
  });

  async function purchase(opts: { amount?: number; seats?: number; durationDays?: number | null } = {}) {
    const priceId = randomId("price");
    await makePlan(db(), { seats: opts.seats ?? 1, durationDays: opts.durationDays ?? null, stripePriceIds: [priceId] });
    const pi = randomId("pi");
    const email = `buy-${randomId("x")}@example.com`;
    const session = fake.addCheckoutSession({ email, payment_intent: pi, amount_total: opts.amount ?? 1000 }, [{ priceId, amount: opts.amount ?? 1000 }]);
    const charge = fake.put(chargeObject({ paymentIntent: pi, amount: opts.amount ?? 1000 }));
    return { priceId, pi, email, session, charge };
  }
  const sessionLicense = async (sessionId: string) => (await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, sessionId)))[0]!;

  it("refunds: partial is recorded and changes nothing; full revokes a one-time purchase and says why", async () => {
    const p = await purchase({ amount: 1000 });
    await deliver("checkout.session.completed", p.session);
    const l = await sessionLicense(p.session.id);
    expect(l.status).toBe("active");
    const [pay] = await db().select().from(payments).where(eq(payments.stripeCheckoutSessionId, p.session.id));
    expect(pay).toMatchObject({ kind: "purchase", licenseId: l.id, amount: 1000, amountRefunded: 0, stripePaymentIntentId: p.pi });

    await deliver("charge.refunded", fake.put({ ...p.charge, amount_refunded: 400, refunded: false }));
    expect((await license(l.id)).updatedAt.getTime()).toBe(l.updatedAt.getTime());
    expect((await db().select().from(payments).where(eq(payments.id, pay!.id)))[0]).toMatchObject({ amountRefunded: 400, stripeChargeId: p.charge.id });
    expect(await emailsTo(p.email)).toHaveLength(1);

    // The rest is refunded: refund.created points at the refund; the charge says it is now fully refunded.
    fake.put({ ...p.charge, amount_refunded: 1000, refunded: true });
    await deliver("refund.created", fake.put(refundObject({ charge: p.charge.id, paymentIntent: p.pi, amount: 600 })));
    expect(await license(l.id)).toMatchObject({ status: "revoked", statusReason: REASONS.refunded });
    expect((await emailsTo(p.email)).at(-1)).toEqual({
      template: "license-status-changed",
      props: { licenseId: l.id, status: "revoked", reason: REASONS.refunded },
    });
    expect(await validateLicense(db(), { key: await keyOf(l.id) })).toMatchObject({ valid: false, code: "REVOKED" });
  });

  it("a refunded renewal takes the expiry back to where that renewal started", async () => {
    const w = await subscriptionWorld();
    at("2031-01-05");
    w.sub({ status: "active" });
    const l = await w.checkout();
    at("2031-02-01T01:00:00Z");
    const pi = randomId("pi");
    const inv2 = w.invoice({ paymentIntent: pi, amount: 2000, periodStart: day("2031-02-01"), periodEnd: day("2031-03-01") });
    w.sub({ periodStart: day("2031-02-01"), periodEnd: day("2031-03-01"), latestInvoice: inv2.id });
    await deliver("invoice.paid", inv2);
    expect((await license(l.id)).expiresAt?.toISOString()).toBe(iso("2031-03-01"));
    at("2031-02-03");
    await deliver("charge.refunded", fake.put(chargeObject({ paymentIntent: pi, amount: 2000, amountRefunded: 2000 })));
    const back = await license(l.id);
    expect(back.expiresAt?.toISOString()).toBe(iso("2031-02-01"));
    // Still within the grace days after the old expiry: the status is the subscription's.
    expect(back.status).toBe("active");
    const [p2] = await db().select().from(payments).where(eq(payments.stripeInvoiceId, inv2.id));
    expect(p2).toMatchObject({ amountRefunded: 2000 });
  });

  it("a refund processed before its purchase is kept and applied when the purchase lands (no key is sent)", async () => {
    const p = await purchase();
    await deliver("charge.refunded", fake.put({ ...p.charge, amount_refunded: 1000, refunded: true }));
    const [fact] = await db().select().from(stripeCharges).where(eq(stripeCharges.id, p.charge.id));
    expect(fact).toMatchObject({ refunded: true, stripePaymentIntentId: p.pi });
    await deliver("checkout.session.completed", p.session);
    const l = await sessionLicense(p.session.id);
    expect(l).toMatchObject({ status: "revoked", statusReason: REASONS.refunded });
    expect(await emailsTo(p.email)).toEqual([]);
  });

  it("disputes: opened suspends, won reinstates (or expires when past expiry), lost revokes", async () => {
    const won = await purchase();
    at("2031-01-05");
    await deliver("checkout.session.completed", won.session);
    const l = await sessionLicense(won.session.id);
    const dp = fake.put(disputeObject({ charge: won.charge.id, paymentIntent: won.pi, status: "needs_response" }));
    await deliver("charge.dispute.created", dp);
    expect(await license(l.id)).toMatchObject({ status: "suspended", statusReason: REASONS.disputed });
    await deliver("charge.dispute.updated", fake.put({ ...dp, status: "under_review" }));
    await deliver("charge.dispute.closed", fake.put({ ...dp, status: "won" }));
    expect(await license(l.id)).toMatchObject({ status: "active", statusReason: null });
    expect((await emailsTo(won.email)).map((e) => [e.template, (e.props as any).status])).toEqual([
      ["license-issued", undefined],
      ["license-status-changed", "suspended"],
      ["license-status-changed", "reinstated"],
    ]);

    const lost = await purchase();
    await deliver("checkout.session.completed", lost.session);
    const l2 = await sessionLicense(lost.session.id);
    const dp2 = fake.put(disputeObject({ charge: lost.charge.id, paymentIntent: lost.pi, status: "warning_needs_response" }));
    await deliver("charge.dispute.created", dp2);
    await deliver("charge.dispute.closed", fake.put({ ...dp2, status: "lost" }));
    expect(await license(l2.id)).toMatchObject({ status: "revoked", statusReason: REASONS.disputeLost });
    expect((await emailsTo(lost.email)).at(-1)).toEqual({
      template: "license-status-changed",
      props: { licenseId: l2.id, status: "revoked", reason: REASONS.disputeLost },
    });

    // Won after the license's time ran out: it comes back expired, not active.
    const late = await purchase({ durationDays: 30 });
    at("2031-01-05");
    await deliver("checkout.session.completed", late.session);
    const l3 = await sessionLicense(late.session.id);
    const dp3 = fake.put(disputeObject({ charge: late.charge.id, paymentIntent: late.pi, status: "needs_response" }));
    await deliver("charge.dispute.created", dp3);
    at("2031-03-01");
    await deliver("charge.dispute.closed", fake.put({ ...dp3, status: "won" }));
    expect((await license(l3.id)).status).toBe("expired");
  });

  it("customer.updated follows an email change unless another customer has that email; customer.deleted marks ours", async () => {
    const p = await purchase();
    const stripeCustomer = fake.addCustomer({ email: p.email });
    fake.sessions.set(p.session.id, { ...p.session, customer: stripeCustomer.id });
    await deliver("checkout.session.completed", fake.sessions.get(p.session.id)!);
    const [ours] = await db().select().from(customers).where(eq(customers.stripeCustomerId, stripeCustomer.id));
    expect(ours!.email).toBe(p.email);

    const moved = `Moved-${randomId("x")}@Example.com`;
    fake.customers.set(stripeCustomer.id, { ...stripeCustomer, email: moved });
    await deliver("customer.updated", fake.customers.get(stripeCustomer.id)!);
    expect((await db().select().from(customers).where(eq(customers.id, ours!.id)))[0]!.email).toBe(moved);

    const taken = await makeCustomer(db(), `taken-${randomId("x")}@example.com`);
    fake.customers.set(stripeCustomer.id, { ...stripeCustomer, email: taken.email.toUpperCase() });
    const { outcome } = await deliver("customer.updated", fake.customers.get(stripeCustomer.id)!);
    expect(outcome.result).toMatchObject({ changed: false, conflict: { heldByCustomerId: taken.id } });
    expect((await db().select().from(customers).where(eq(customers.id, ours!.id)))[0]!.email).toBe(moved);
    const [conflict] = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, ours!.id), eq(auditLog.action, "customer.email_conflict")));
    expect(conflict!.metadata).toMatchObject({ heldByCustomerId: taken.id });

    fake.deleteCustomer(stripeCustomer.id);
    await deliver("customer.deleted", { id: stripeCustomer.id, object: "customer", deleted: true });
    const [gone] = await db().select().from(customers).where(eq(customers.id, ours!.id));
    expect(gone!.deletedAt).not.toBeNull();
    // A late customer.updated for the deleted customer reads it as deleted and changes nothing.
    await deliver("customer.updated", stripeCustomer);
    expect((await db().select().from(customers).where(eq(customers.id, ours!.id)))[0]).toEqual(gone);
    // The licenses stay.
    expect((await sessionLicense(p.session.id)).customerId).toBe(ours!.id);
  });

  it("refuses an event whose object is not the kind its type names, at once", async () => {
    const event = stripeEvent("invoice.paid", { id: randomId("ch"), object: "charge" });
    await storeStripeEvent(db(), StripeEventEnvelope.parse(event), "webhook");
    expect(await processStripeEvent(event.id, deps)).toMatchObject({ status: "failed", attempts: 1 });
    const [row] = await db().select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
    expect(row!.lastError).toContain("in_");
  });

  async function keyOf(licenseId: string) {
    const { revealLicenseKey } = await import("@/server/domain/licensing/license-key");
    const l = await license(licenseId);
    return revealLicenseKey(l.keyCiphertext);
  }
});
