import { eq } from "drizzle-orm";
import { Logger, run, type Runner } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "@/server/db/client";
import { auditLog, customers, emailOutbox, licenses, payments, stripeEvents, stripeSubscriptions } from "@/server/db/schema";
import { storeStripeEvent, StripeEventEnvelope } from "@/server/domain/billing/store-event";
import { taskList } from "@/server/jobs/tasks";
import { eventually } from "./helpers/app";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makePlan } from "./helpers/factories";
import {
  checkoutSessionObject,
  invoiceObject,
  lineItemObject,
  randomId,
  startFakeStripe,
  stripeEvent,
  subscriptionObject,
  type FakeStripe,
  type SubscriptionSpec,
} from "./helpers/fake-stripe";
import { day } from "./helpers/stripe-scenarios";

/**
 * Two jobs for one subscription read it at different moments, and the one holding the OLDER version commits
 * LAST. facts.ts keeps the newer read (a write whose read started earlier never overwrites one that started
 * later); this proves it with real concurrency: the real process_stripe_event task run by graphile-worker (two
 * jobs at a time) against PostgreSQL, and the fake Stripe answering the first job's read with the object as it
 * was, but holding that answer back until the second job (which read the newer version) has committed.
 */
describe("an older read committing after a newer one", () => {
  let database: TestDb;
  let fake: FakeStripe;
  let worker: Runner;
  let priceId: string;

  beforeAll(async () => {
    database = await createTestDatabase("race");
    fake = await startFakeStripe();
    // The task takes everything from the settings, as in production: the process database and the Stripe API URL.
    await useProcessDatabase(database.url, { STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_URL: fake.url, RETRY_BASE_MS: "50" });
    priceId = randomId("price");
    await makePlan(database.db, { seats: 2, graceDays: 7, durationDays: null, stripePriceIds: [priceId] });
    worker = await run({
      pgPool: database.pool,
      // Only the task under test: the emails it owes stay in the outbox, where the test reads them.
      taskList: { process_stripe_event: taskList.process_stripe_event! },
      concurrency: 2,
      pollInterval: 200,
      noHandleSignals: true,
      logger: new Logger(() => () => undefined),
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await closeDb();
    await fake?.stop();
    await database?.drop();
  });

  const db = () => database.db;
  const send = async (type: string, object: Record<string, unknown>) => {
    const event = stripeEvent(type, object);
    // Stored and queued as the webhook does: the worker picks the job up at once.
    expect(await storeStripeEvent(db(), StripeEventEnvelope.parse(event), "webhook")).toBe(true);
    return event.id as string;
  };
  const eventRow = async (id: string) => (await db().select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0]!;
  const settled = (id: string) =>
    eventually(async () => {
      const row = await eventRow(id);
      return row.status !== "pending" ? row : undefined;
    }, 30_000, `event ${id} to be settled`);
  const emailsTo = async (to: string) => (await db().select().from(emailOutbox).where(eq(emailOutbox.to, to))).map((e) => e.template).sort();
  const subscriptionFact = async (id: string) => (await db().select().from(stripeSubscriptions).where(eq(stripeSubscriptions.id, id)))[0]!;

  /** A subscription bought through Checkout, its license issued by the worker; `sub` moves it on from there. */
  async function subscribed() {
    const email = `race-${randomId("x")}@example.com`;
    const customer = fake.addCustomer({ email });
    let spec: SubscriptionSpec = { id: randomId("sub"), itemId: randomId("si"), customer: customer.id, priceId, status: "active", periodStart: day("2031-01-01"), periodEnd: day("2031-02-01") };
    const sub = (over: Partial<SubscriptionSpec> = {}) => fake.put(subscriptionObject((spec = { ...spec, ...over })));
    sub();
    const session = fake.put(checkoutSessionObject({ email, mode: "subscription", subscription: spec.id, customer: customer.id, payment_intent: null }));
    fake.lineItems.set(session.id, [lineItemObject({ priceId })]);
    const checkout = await settled(await send("checkout.session.completed", session));
    expect(checkout.status).toBe("processed");
    const [license] = await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, session.id));
    return { email, subId: spec.id!, itemId: spec.itemId!, customerId: customer.id, sub, licenseId: license!.id };
  }

  /** A promise the test settles by hand: how long the fake holds the older answer back. */
  const gate = () => {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  };

  it("a cancellation scheduled, read first and committed last, does not undo the subscription's end", async () => {
    const w = await subscribed();
    const license = async () => (await db().select().from(licenses).where(eq(licenses.id, w.licenseId)))[0]!;
    expect(await license()).toMatchObject({ status: "active", autoRenews: true });

    // Version 1: cancellation scheduled for the period end. The first job's read gets it, and waits.
    const v1 = w.sub({ cancelAtPeriodEnd: true, cancelAt: day("2031-02-01") });
    const release = gate();
    const held = fake.hold(`/v1/subscriptions/${w.subId}`, release.promise);
    const older = await send("customer.subscription.updated", v1);
    await held.arrived;

    // Version 2: the subscription ended. The second job reads it and commits while the first is still waiting.
    const endedAt = day("2031-01-20");
    const v2 = w.sub({ status: "canceled", canceledAt: endedAt, endedAt });
    const newer = await send("customer.subscription.deleted", v2);
    expect((await settled(newer)).status).toBe("processed");
    expect((await eventRow(older)).status).toBe("pending");
    const afterNewer = await subscriptionFact(w.subId);
    expect(afterNewer).toMatchObject({ status: "canceled", endedAt });
    expect(await license()).toMatchObject({ status: "expired", autoRenews: false, cancelAt: null });

    // Now the older answer arrives and its job commits, last.
    release.open();
    expect((await settled(older)).status).toBe("processed");
    expect(await subscriptionFact(w.subId)).toEqual(afterNewer);
    const l = await license();
    expect(l).toMatchObject({ status: "expired", autoRenews: false, cancelAt: null });
    expect(l.expiresAt?.toISOString()).toBe(endedAt.toISOString());
    // Nothing is told about the older version: no cancellation "scheduled" after the end was announced.
    expect(await emailsTo(w.email)).toEqual(["license-expired", "license-issued"]);
  });

  it("a payment failure, read first and committed last, does not undo the payment that followed", async () => {
    const w = await subscribed();
    const license = async () => (await db().select().from(licenses).where(eq(licenses.id, w.licenseId)))[0]!;
    const [feb, mar] = [day("2031-02-01"), day("2031-03-01")];
    const open = invoiceObject({ subscription: w.subId, subscriptionItem: w.itemId, customer: w.customerId, priceId, status: "open", periodStart: feb, periodEnd: mar });
    const paid = { ...open, status: "paid", amount_paid: open.amount_due, amount_remaining: 0, payments: { ...open.payments, data: [{ ...open.payments.data[0], status: "paid" }] } };

    // Version 1: the renewal's payment failed. The first job reads the open invoice, then the past-due
    // subscription, whose answer is held back.
    fake.put(open);
    w.sub({ status: "past_due", periodStart: feb, periodEnd: mar, latestInvoice: open.id });
    const release = gate();
    const held = fake.hold(`/v1/subscriptions/${w.subId}`, release.promise);
    const older = await send("invoice.payment_failed", open);
    await held.arrived;

    // Version 2: Stripe's retry succeeded. The second job reads the paid invoice and the active subscription.
    fake.put(paid);
    w.sub({ status: "active" });
    const newer = await send("invoice.paid", paid);
    expect((await settled(newer)).status).toBe("processed");
    expect((await eventRow(older)).status).toBe("pending");

    release.open();
    expect((await settled(older)).status).toBe("processed");
    expect(await subscriptionFact(w.subId)).toMatchObject({ status: "active" });
    const [payment] = await db().select().from(payments).where(eq(payments.stripeInvoiceId, open.id));
    expect(payment).toMatchObject({ status: "paid", amount: open.amount_due });
    const l = await license();
    expect(l).toMatchObject({ status: "active", autoRenews: true });
    expect(l.expiresAt?.toISOString()).toBe(mar.toISOString());
    // The receipt, and no "payment failed" for a payment that went through.
    expect(await emailsTo(w.email)).toEqual(["license-issued", "renewal-receipt"]);
  });

  it("a checkout whose subscription read is older than one already applied issues the license from the newer one", async () => {
    const email = `race-${randomId("x")}@example.com`;
    const customer = fake.addCustomer({ email });
    const spec: SubscriptionSpec = { id: randomId("sub"), itemId: randomId("si"), customer: customer.id, priceId, status: "active", periodStart: day("2031-01-01"), periodEnd: day("2031-02-01") };
    fake.put(subscriptionObject(spec));
    const session = fake.put(checkoutSessionObject({ email, mode: "subscription", subscription: spec.id, customer: customer.id, payment_intent: null }));
    fake.lineItems.set(session.id, [lineItemObject({ priceId })]);

    // The checkout's job reads the session, then the subscription in its first period: that answer waits.
    const release = gate();
    const held = fake.hold(`/v1/subscriptions/${spec.id}`, release.promise);
    const older = await send("checkout.session.completed", session);
    await held.arrived;
    // Meanwhile the subscription renews and two more seats are bought; that job finds no license yet and keeps the facts.
    const renewed = fake.put(subscriptionObject({ ...spec, quantity: 2, periodStart: day("2031-02-01"), periodEnd: day("2031-03-01") }));
    const newer = await send("customer.subscription.updated", renewed);
    expect(await settled(newer)).toMatchObject({ status: "processed", result: { licenses: [] } });

    release.open();
    expect((await settled(older)).status).toBe("processed");
    const [l] = await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, session.id));
    expect(l).toMatchObject({ status: "active", maxActivations: 4 });
    expect(l!.expiresAt?.toISOString()).toBe(day("2031-03-01").toISOString());
  });

  it("a customer's older email, read first and committed last, does not replace the newer one", async () => {
    const stripeCustomer = fake.addCustomer({ email: `first-${randomId("x")}@example.com` });
    const ours = await makeCustomer(db(), stripeCustomer.email);
    await db().update(customers).set({ stripeCustomerId: stripeCustomer.id }).where(eq(customers.id, ours.id));
    const [second, third] = [`second-${randomId("x")}@example.com`, `third-${randomId("x")}@example.com`];
    const customer = async () => (await db().select().from(customers).where(eq(customers.id, ours.id)))[0]!;

    // The customer changes their email twice on Stripe; the first change's job reads it and waits.
    fake.put({ ...stripeCustomer, email: second });
    const release = gate();
    const held = fake.hold(`/v1/customers/${stripeCustomer.id}`, release.promise);
    const older = await send("customer.updated", { ...stripeCustomer, email: second });
    await held.arrived;
    fake.put({ ...stripeCustomer, email: third });
    const newer = await send("customer.updated", { ...stripeCustomer, email: third });
    expect((await settled(newer)).status).toBe("processed");
    expect((await eventRow(older)).status).toBe("pending");
    expect((await customer()).email).toBe(third);

    release.open();
    const late = await settled(older);
    expect((await customer()).email).toBe(third);
    expect(late).toMatchObject({ status: "processed", result: { changed: false, stale: expect.any(String) } });
    const changes = await db().select().from(auditLog).where(eq(auditLog.subjectId, ours.id));
    expect(changes.filter((a) => a.action === "customer.email_changed").map((a) => a.after)).toEqual([{ email: third }]);
  });
});
