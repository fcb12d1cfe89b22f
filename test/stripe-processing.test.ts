import Stripe from "stripe";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditLog, customers, emailOutbox, licenses, stripeEvents } from "@/server/db/schema";
import { MAX_EVENT_ATTEMPTS, processStripeEvent, type ProcessDeps } from "@/server/domain/billing/apply-stripe-event";
import { storeStripeEvent, StripeEventEnvelope } from "@/server/domain/billing/store-event";
import { stripeClient, stripeConfigForUrl } from "@/server/domain/billing/stripe-client";
import { verifyStripeWebhook } from "@/server/domain/billing/webhook";
import { AppError } from "@/server/domain/errors";
import { resetEnvCache } from "@/server/env";
import { TEST_WEBHOOK_SECRET } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makePlan } from "./helpers/factories";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";

/**
 * The event processing rules, called in-process against a real database and the fake Stripe API (the real SDK
 * talks to it over HTTP). The webhook route and the worker around them are covered in stripe-webhook.test.ts.
 */
describe("processStripeEvent", () => {
  let database: TestDb;
  let fake: FakeStripe;
  let deps: ProcessDeps;

  beforeAll(async () => {
    database = await createTestDatabase("billing");
    fake = await startFakeStripe();
    deps = { db: database.db, stripe: () => new Stripe("sk_test_x", stripeConfigForUrl(fake.url)), retryBaseMs: 50 };
  });
  afterAll(async () => {
    await fake?.stop();
    await database?.drop();
  });
  afterEach(() => {
    fake.setDown(false);
    fake.maxPageSize = 100;
  });

  const store = async (event: Record<string, unknown>) => {
    expect(await storeStripeEvent(database.db, StripeEventEnvelope.parse(event), "webhook")).toBe(true);
    return event.id as string;
  };
  const eventRow = async (id: string) => (await database.db.select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0]!;
  const sessionLicenses = (sessionId: string) =>
    database.db.select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, sessionId));
  const jobFor = async (eventId: string) => {
    const { rows } = await database.pool.query<{ run_at: Date; attempts: number }>(
      "select run_at, attempts from graphile_worker._private_jobs where key = $1",
      [`stripe-event:${eventId}`],
    );
    return rows[0];
  };

  it("issues one license per line item across paginated line items, then ignores a duplicate run", async () => {
    const planA = await makePlan(database.db, { seats: 2, stripePriceIds: [randomId("price")] });
    const planB = await makePlan(database.db, { seats: 5, stripePriceIds: [randomId("price")] });
    const [priceA] = (await database.pool.query("select stripe_price_id from plan_prices where plan_id = $1", [planA.id])).rows;
    const [priceB] = (await database.pool.query("select stripe_price_id from plan_prices where plan_id = $1", [planB.id])).rows;
    const session = fake.addCheckoutSession({}, [
      { priceId: priceA.stripe_price_id, quantity: 3 },
      { priceId: priceB.stripe_price_id, quantity: 1 },
      { priceId: priceA.stripe_price_id, quantity: 1 },
    ]);
    fake.maxPageSize = 1;
    const eventId = await store(stripeEvent("checkout.session.completed", session));

    const outcome = await processStripeEvent(eventId, deps);
    expect(outcome.status).toBe("processed");
    // Three pages: the SDK followed has_more with starting_after.
    const pages = fake.requestsTo(`/v1/checkout/sessions/${session.id}/line_items`);
    expect(pages).toHaveLength(3);
    expect(pages[2]!.query.get("starting_after")).toBeTruthy();

    const rows = await sessionLicenses(session.id);
    expect(rows.map((l) => l.maxActivations).sort((a, b) => a - b)).toEqual([2, 5, 6]);
    expect(new Set(rows.map((l) => l.stripePaymentIntentId))).toEqual(new Set([session.payment_intent]));
    const row = await eventRow(eventId);
    expect(row.status).toBe("processed");
    expect((row.result as { licenseIds: string[] }).licenseIds).toHaveLength(3);
    const audits = await database.db.select().from(auditLog).where(eq(auditLog.actorId, eventId));
    expect(audits.map((a) => a.action).sort()).toEqual(["license.issued", "license.issued", "license.issued", "stripe_event.processed"]);
    expect(audits.every((a) => a.actorType === "stripe")).toBe(true);

    const before = fake.requests.length;
    expect(await processStripeEvent(eventId, deps)).toEqual({ status: "skipped", reason: "already processed" });
    expect(fake.requests.length).toBe(before);
    expect(await sessionLicenses(session.id)).toHaveLength(3);
  });

  it("falls back to the Stripe customer's email and matches it case-insensitively", async () => {
    const existing = await makeCustomer(database.db, `Mixed.Case-${randomId("x")}@Example.com`);
    const stripeCustomer = fake.addCustomer({ email: existing.email.toUpperCase() });
    const priceId = randomId("price");
    await makePlan(database.db, { seats: 1, stripePriceIds: [priceId] });
    const session = fake.addCheckoutSession({ email: null, customer: stripeCustomer.id }, [{ priceId }]);
    const eventId = await store(stripeEvent("checkout.session.completed", session));

    expect((await processStripeEvent(eventId, deps)).status).toBe("processed");
    expect(fake.requestsTo(`/v1/customers/${stripeCustomer.id}`)).toHaveLength(1);
    const [license] = await sessionLicenses(session.id);
    expect(license!.customerId).toBe(existing.id);
    const [outbox] = await database.db.select().from(emailOutbox).where(eq(emailOutbox.dedupeKey, `license-issued:${session.id}`));
    expect(outbox!.to).toBe(stripeCustomer.email);
    const [customer] = await database.db.select().from(customers).where(eq(customers.id, existing.id));
    expect(customer!.stripeCustomerId).toBe(stripeCustomer.id);
  });

  it("fails a session whose prices are bound to no plan, naming them", async () => {
    const unbound = randomId("price");
    const session = fake.addCheckoutSession({}, [{ priceId: unbound }]);
    const eventId = await store(stripeEvent("checkout.session.completed", session));

    const outcome = await processStripeEvent(eventId, deps);
    expect(outcome.status).toBe("failed");
    const row = await eventRow(eventId);
    expect(row.status).toBe("failed");
    expect(row.attempts).toBe(1);
    expect(row.lastError).toContain(unbound);
    expect(await sessionLicenses(session.id)).toHaveLength(0);
    expect(await jobFor(eventId)).toBeDefined(); // the original job (not consumed here): no retry was added
    expect((await jobFor(eventId))!.run_at.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("issues the bound line items and records the unbound prices when only some map to a plan", async () => {
    const bound = randomId("price");
    const unbound = randomId("price");
    await makePlan(database.db, { seats: 1, stripePriceIds: [bound] });
    const session = fake.addCheckoutSession({}, [{ priceId: bound }, { priceId: unbound }]);
    const eventId = await store(stripeEvent("checkout.session.completed", session));

    expect((await processStripeEvent(eventId, deps)).status).toBe("processed");
    const row = await eventRow(eventId);
    expect(row.result).toMatchObject({ unboundPriceIds: [unbound], skipped: [{ priceId: unbound, reason: "unbound_price" }] });
    expect(await sessionLicenses(session.id)).toHaveLength(1);
  });

  it("marks the event failed at once, with a clear reason, when STRIPE_SECRET_KEY is missing", async () => {
    const session = fake.addCheckoutSession({}, [{ priceId: randomId("price") }]);
    const eventId = await store(stripeEvent("checkout.session.completed", session));
    // The real client factory, reading this process's (unset) settings.
    delete process.env.STRIPE_SECRET_KEY;
    resetEnvCache();
    expect((await processStripeEvent(eventId, { ...deps, stripe: stripeClient })).status).toBe("failed");
    const row = await eventRow(eventId);
    expect(row).toMatchObject({ status: "failed", attempts: 1 });
    expect(row.lastError).toContain("STRIPE_SECRET_KEY");
  });

  it("retries a Stripe outage with growing delays, writes nothing, and gives up after the last attempt", async () => {
    const priceId = randomId("price");
    await makePlan(database.db, { seats: 1, stripePriceIds: [priceId] });
    const session = fake.addCheckoutSession({}, [{ priceId }]);
    const eventId = await store(stripeEvent("checkout.session.completed", session));
    fake.setDown("500");

    const delays: number[] = [];
    for (let attempt = 1; attempt < MAX_EVENT_ATTEMPTS; attempt++) {
      const before = Date.now();
      const outcome = await processStripeEvent(eventId, deps);
      expect(outcome).toMatchObject({ status: "retrying", attempts: attempt });
      const job = await jobFor(eventId);
      expect(job).toBeDefined();
      delays.push(job!.run_at.getTime() - before);
    }
    // 50 ms doubling (capped at an hour); the job's run_at was set by our own backoff.
    expect(delays[0]).toBeGreaterThanOrEqual(45);
    expect(delays[1]).toBeGreaterThanOrEqual(95);
    expect(delays[4]).toBeGreaterThanOrEqual(50 * 16 - 5);
    let row = await eventRow(eventId);
    expect(row).toMatchObject({ status: "pending", attempts: MAX_EVENT_ATTEMPTS - 1 });
    expect(row.lastError).toMatch(/500|api_error|down/i);

    expect(await processStripeEvent(eventId, deps)).toMatchObject({ status: "failed", attempts: MAX_EVENT_ATTEMPTS });
    row = await eventRow(eventId);
    expect(row.status).toBe("failed");
    expect(await sessionLicenses(session.id)).toHaveLength(0);
    expect(await database.db.select().from(emailOutbox).where(eq(emailOutbox.dedupeKey, `license-issued:${session.id}`))).toHaveLength(0);
  });

  it("retries when the connection drops, then issues once Stripe answers again", async () => {
    const priceId = randomId("price");
    await makePlan(database.db, { seats: 4, stripePriceIds: [priceId] });
    const session = fake.addCheckoutSession({}, [{ priceId, quantity: 2 }]);
    const eventId = await store(stripeEvent("checkout.session.async_payment_succeeded", session));
    fake.setDown("destroy");
    expect(await processStripeEvent(eventId, deps)).toMatchObject({ status: "retrying", attempts: 1 });
    expect((await eventRow(eventId)).lastError).toMatch(/connection|socket|hang up|ECONNRESET/i);
    fake.setDown(false);
    expect((await processStripeEvent(eventId, deps)).status).toBe("processed");
    expect((await sessionLicenses(session.id)).map((l) => l.maxActivations)).toEqual([8]);
    expect((await eventRow(eventId)).attempts).toBe(2);
  });

  it("ignores an unpaid session and event types it does not act on", async () => {
    const session = fake.addCheckoutSession({ payment_status: "unpaid" }, [{ priceId: randomId("price") }]);
    const unpaid = await store(stripeEvent("checkout.session.completed", session));
    const outcome = await processStripeEvent(unpaid, deps);
    expect(outcome.status).toBe("ignored");
    expect((await eventRow(unpaid)).result).toMatchObject({ paymentStatus: "unpaid" });
    // An unpaid session needs no line items.
    expect(fake.requestsTo(`/v1/checkout/sessions/${session.id}/line_items`)).toHaveLength(0);

    const other = await store(stripeEvent("payment_intent.created", { id: randomId("pi"), object: "payment_intent" }));
    const before = fake.requests.length;
    expect((await processStripeEvent(other, deps)).status).toBe("ignored");
    expect(fake.requests.length).toBe(before);
    expect((await eventRow(other)).result).toMatchObject({ reason: expect.stringContaining("payment_intent.created") });
  });

  it("lists events for the reconciliation job, newest first, across pages", async () => {
    const events = ["invoice.paid", "charge.refunded", "invoice.paid"].map((type) => stripeEvent(type, { id: randomId("obj") }));
    events.forEach((e) => fake.addEvent(e));
    fake.maxPageSize = 1;
    const listed: string[] = [];
    for await (const e of deps.stripe().events.list({ types: ["invoice.paid"], limit: 10 })) listed.push(e.id);
    expect(listed).toEqual([events[2]!.id, events[0]!.id]);
  });

  it("stores an event once: a second store of the same id neither inserts nor queues", async () => {
    const event = StripeEventEnvelope.parse(stripeEvent("invoice.paid", { id: randomId("in"), object: "invoice" }));
    expect(await storeStripeEvent(database.db, event, "webhook")).toBe(true);
    expect(await storeStripeEvent(database.db, event, "reconcile")).toBe(false);
    const { rows } = await database.pool.query("select count(*)::int as n from graphile_worker._private_jobs where key = $1", [
      `stripe-event:${event.id}`,
    ]);
    expect(rows[0].n).toBe(1);
    expect((await eventRow(event.id)).receivedVia).toBe("webhook");
  });
});

describe("verifyStripeWebhook", () => {
  const event = () => stripeEvent("checkout.session.completed", { id: randomId("cs"), object: "checkout.session" });
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof AppError ? err.code : String(err);
    }
    return "accepted";
  };

  it("accepts a fresh, correctly signed event and returns every field Stripe sent", () => {
    const e: Record<string, any> = { ...event(), extra: { kept: true } };
    const { body, headers } = signedWebhook(e);
    expect(verifyStripeWebhook(body, headers["stripe-signature"], TEST_WEBHOOK_SECRET)).toMatchObject({ id: e.id, extra: { kept: true } });
  });

  it("refuses without a secret configured (NOT_CONFIGURED), whatever the request", () => {
    const { body, headers } = signedWebhook(event());
    expect(codeOf(() => verifyStripeWebhook(body, headers["stripe-signature"], undefined))).toBe("NOT_CONFIGURED");
  });

  it("refuses a signature dated more than 300 s in the past or the future", () => {
    const nowS = Math.floor(Date.now() / 1000);
    for (const timestamp of [nowS - 301, nowS + 301]) {
      const { body, headers } = signedWebhook(event(), { timestamp });
      expect(codeOf(() => verifyStripeWebhook(body, headers["stripe-signature"], TEST_WEBHOOK_SECRET))).toBe("INVALID_SIGNATURE");
    }
    const { body, headers } = signedWebhook(event(), { timestamp: nowS - 200 });
    expect(codeOf(() => verifyStripeWebhook(body, headers["stripe-signature"], TEST_WEBHOOK_SECRET))).toBe("accepted");
  });

  it("refuses a tampered body, another secret, and a garbage header", () => {
    const { body, headers } = signedWebhook(event());
    const sig = headers["stripe-signature"];
    expect(codeOf(() => verifyStripeWebhook(body.replace("checkout", "chekout"), sig, TEST_WEBHOOK_SECRET))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyStripeWebhook(body, sig, "whsec_another_secret"))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyStripeWebhook(body, "nonsense", TEST_WEBHOOK_SECRET))).toBe("INVALID_SIGNATURE");
    expect(codeOf(() => verifyStripeWebhook("", sig, TEST_WEBHOOK_SECRET))).toBe("INVALID_SIGNATURE");
  });

  it("answers a correctly signed body that is not a Stripe event with BAD_REQUEST", () => {
    for (const body of ["not json", JSON.stringify({ hello: "world" })]) {
      const { headers } = signedWebhook(body);
      expect(codeOf(() => verifyStripeWebhook(body, headers["stripe-signature"], TEST_WEBHOOK_SECRET))).toBe("BAD_REQUEST");
    }
  });
});
