import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appState, customers, emailOutbox, licenses, stripeEvents } from "@/server/db/schema";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { makeCustomer, makePlan } from "./helpers/factories";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";

/**
 * POST /api/stripe/webhook end to end: the real built app (web + worker) against a real database, with the
 * real stripe SDK inside it talking to a local fake of Stripe's API.
 */
describe("Stripe webhook and checkout processing", () => {
  let app: TestApp;
  let fake: FakeStripe;

  beforeAll(async () => {
    fake = await startFakeStripe();
    app = await startApp({ env: { STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_URL: fake.url } });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });
  afterEach(() => fake.setDown(false));

  const db = () => app.database.db;
  const deliver = (event: Record<string, unknown>, opts?: { timestamp?: number; secret?: string }) => {
    const { body, headers } = signedWebhook(event, opts);
    return app.post("/api/stripe/webhook", body, headers);
  };
  const eventRow = async (id: string) => (await db().select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0];
  const settled = (id: string) =>
    eventually(async () => {
      const row = await eventRow(id);
      return row && row.status !== "pending" ? row : undefined;
    }, 30_000, `event ${id} to be settled`);
  const sessionLicenses = (sessionId: string) =>
    db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, sessionId));
  const outboxFor = (sessionId: string) =>
    db().select().from(emailOutbox).where(eq(emailOutbox.dedupeKey, `license-issued:${sessionId}`));
  const jobsFor = async (eventId: string) =>
    (
      await app.database.pool.query<{ n: number }>("select count(*)::int as n from graphile_worker._private_jobs where key = $1", [
        `stripe-event:${eventId}`,
      ])
    ).rows[0]!.n;
  const planWithPrice = async (seats: number) => {
    const priceId = randomId("price");
    const plan = await makePlan(db(), { seats, stripePriceIds: [priceId] });
    return { plan, priceId };
  };

  it("collapses 20 concurrent deliveries of one event into one stored event, one license and one email", async () => {
    const { priceId } = await planWithPrice(1);
    const session = fake.addCheckoutSession({}, [{ priceId }]);
    const event = stripeEvent("checkout.session.completed", session);
    const { body, headers } = signedWebhook(event);

    const answers = await Promise.all(Array.from({ length: 20 }, () => app.post("/api/stripe/webhook", body, headers)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.every((a) => a.body.received === true)).toBe(true);

    const row = await settled(event.id);
    expect(row.status).toBe("processed");
    expect(await db().select().from(stripeEvents).where(eq(stripeEvents.id, event.id))).toHaveLength(1);
    expect(await sessionLicenses(session.id)).toHaveLength(1);
    expect(await outboxFor(session.id)).toHaveLength(1);
    // The session was read once: one job ran, once.
    expect(fake.requestsTo(`/v1/checkout/sessions/${session.id}/line_items`)).toHaveLength(1);

    const [seen] = await db().select().from(appState).where(eq(appState.key, "stripe.webhook_last_seen"));
    expect(seen?.value).toMatchObject({ eventId: event.id });

    // A redelivery after processing is answered 200 and changes nothing.
    const again = await app.post("/api/stripe/webhook", body, headers);
    expect(again).toMatchObject({ status: 200, body: { received: true } });
    expect(await jobsFor(event.id)).toBe(0);
    expect((await eventRow(event.id))?.attempts).toBe(1);
    expect(await sessionLicenses(session.id)).toHaveLength(1);
  });

  it("refuses a bad signature, a missing one and a stale one with 400 INVALID_SIGNATURE, storing nothing", async () => {
    const { priceId } = await planWithPrice(1);
    const session = fake.addCheckoutSession({}, [{ priceId }]);
    const event = stripeEvent("checkout.session.completed", session);
    const good = signedWebhook(event);

    const attempts = [
      deliver(event, { secret: "whsec_not_the_right_secret" }),
      app.post("/api/stripe/webhook", good.body, { "content-type": "application/json" }),
      deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      app.post("/api/stripe/webhook", good.body.replace(session.id, randomId("cs")), good.headers),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("INVALID_SIGNATURE");
      expect(typeof res.body.error.message).toBe("string");
    }
    expect(await eventRow(event.id)).toBeUndefined();
    expect(await db().select().from(stripeEvents).where(eq(stripeEvents.objectId, session.id))).toHaveLength(0);
    expect(await jobsFor(event.id)).toBe(0);
    expect(fake.requestsTo(`/v1/checkout/sessions/${session.id}`)).toHaveLength(0);
  });

  it("writes nothing while the Stripe API is down, retries with backoff, and issues once it is back", async () => {
    const { priceId } = await planWithPrice(2);
    const email = `${randomId("down")}@example.com`;
    const session = fake.addCheckoutSession({ email }, [{ priceId }]);
    const event = stripeEvent("checkout.session.completed", session);
    fake.setDown("500");

    expect((await deliver(event)).status).toBe(200);
    const failing = await eventually(async () => {
      const row = await eventRow(event.id);
      return row && row.attempts >= 2 ? row : undefined;
    }, 30_000, "two failed attempts");
    expect(failing.status).toBe("pending");
    expect(failing.lastError).toMatch(/Stripe API error \(HTTP 500/);
    expect(await sessionLicenses(session.id)).toHaveLength(0);
    expect(await db().select().from(customers).where(sql`lower(${customers.email}) = ${email}`)).toHaveLength(0);
    expect(await outboxFor(session.id)).toHaveLength(0);
    expect(await jobsFor(event.id)).toBe(1);

    fake.setDown(false);
    const row = await settled(event.id);
    expect(row.status).toBe("processed");
    expect(row.attempts).toBeGreaterThanOrEqual(3);
    expect(row.lastError).toBeNull();
    const issued = await sessionLicenses(session.id);
    expect(issued.map((l) => l.maxActivations)).toEqual([2]);
    expect(await outboxFor(session.id)).toHaveLength(1);
  });

  it("issues one license per line item with seats x quantity, to the existing customer, with one email", async () => {
    const a = await planWithPrice(2);
    const b = await planWithPrice(5);
    const local = randomId("jane");
    const existing = await makeCustomer(db(), `Jane.${local}@Example.COM`);
    const session = fake.addCheckoutSession({ email: `jane.${local}@example.com` }, [
      { priceId: a.priceId, quantity: 3 },
      { priceId: b.priceId, quantity: 1 },
    ]);
    const event = stripeEvent("checkout.session.completed", session);
    expect((await deliver(event)).status).toBe(200);

    expect((await settled(event.id)).status).toBe("processed");
    const issued = await sessionLicenses(session.id);
    expect(issued.map((l) => [l.planId, l.maxActivations]).sort((x, y) => Number(x[1]) - Number(y[1]))).toEqual([
      [b.plan.id, 5],
      [a.plan.id, 6],
    ]);
    expect(issued.every((l) => l.customerId === existing.id && l.source === "stripe" && l.status === "active")).toBe(true);
    expect(await db().select().from(customers).where(sql`lower(${customers.email}) = lower(${existing.email})`)).toHaveLength(1);

    const outbox = await outboxFor(session.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.customerId).toBe(existing.id);
    expect(outbox[0]!.template).toBe("license-issued");
    expect((outbox[0]!.props as { licenseIds: string[] }).licenseIds.sort()).toEqual(issued.map((l) => l.id).sort());
  });

  it("issues nothing for an unpaid session, then issues when async_payment_succeeded arrives", async () => {
    const { priceId } = await planWithPrice(1);
    const session = fake.addCheckoutSession({ payment_status: "unpaid" }, [{ priceId }]);
    const completed = stripeEvent("checkout.session.completed", session);
    expect((await deliver(completed)).status).toBe(200);
    const ignored = await settled(completed.id);
    expect(ignored.status).toBe("ignored");
    expect(ignored.result).toMatchObject({ paymentStatus: "unpaid" });
    expect(await sessionLicenses(session.id)).toHaveLength(0);
    expect(await outboxFor(session.id)).toHaveLength(0);

    // The bank transfer clears: Stripe now says paid, whatever the (stale) event payload says.
    fake.sessions.get(session.id)!.payment_status = "paid";
    const succeeded = stripeEvent("checkout.session.async_payment_succeeded", { ...session, payment_status: "unpaid" });
    expect((await deliver(succeeded)).status).toBe(200);
    expect((await settled(succeeded.id)).status).toBe("processed");
    expect(await sessionLicenses(session.id)).toHaveLength(1);
    expect(await outboxFor(session.id)).toHaveLength(1);
  });

  it("issues once when completed and async_payment_succeeded for one paid session are processed concurrently", async () => {
    const a = await planWithPrice(1);
    const b = await planWithPrice(3);
    const session = fake.addCheckoutSession({}, [{ priceId: a.priceId }, { priceId: b.priceId, quantity: 2 }]);
    const completed = stripeEvent("checkout.session.completed", session);
    const succeeded = stripeEvent("checkout.session.async_payment_succeeded", session);

    const answers = await Promise.all([deliver(completed), deliver(succeeded)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    const rows = await Promise.all([settled(completed.id), settled(succeeded.id)]);
    expect(rows.map((r) => r.status)).toEqual(["processed", "processed"]);
    // Neither needed a retry: the second waited for the first (advisory lock) instead of colliding with it.
    expect(rows.map((r) => [r.attempts, r.lastError])).toEqual([
      [1, null],
      [1, null],
    ]);
    const issuedByEvent = rows.map((r) => (r.result as { licenseIds: string[] }).licenseIds.length).sort();
    expect(issuedByEvent).toEqual([0, 2]);
    expect((await sessionLicenses(session.id)).map((l) => l.maxActivations).sort()).toEqual([1, 6]);
    expect(await outboxFor(session.id)).toHaveLength(1);
  });

  it("stores an event type it does not act on and marks it ignored", async () => {
    const event = stripeEvent("payment_intent.created", { id: randomId("pi"), object: "payment_intent" });
    const res = await deliver(event);
    expect(res).toMatchObject({ status: 200, body: { received: true } });
    const row = await settled(event.id);
    expect(row).toMatchObject({ status: "ignored", type: "payment_intent.created", receivedVia: "webhook" });
    expect(row.payload).toMatchObject({ id: event.id, data: { object: { id: event.data.object.id } } });
    expect(
      await db()
        .select()
        .from(stripeEvents)
        .where(and(eq(stripeEvents.id, event.id), eq(stripeEvents.objectId, event.data.object.id))),
    ).toHaveLength(1);
  });
});
