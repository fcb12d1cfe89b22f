import Stripe from "stripe";
import { eq, inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { licenses, stripeEvents } from "@/server/db/schema";
import { HANDLED_EVENT_TYPES, processStripeEvent } from "@/server/domain/billing/apply-stripe-event";
import { RECONCILE_OVERLAP_SECONDS, reconcileStripeEvents, reconciliationStatus } from "@/server/domain/billing/reconcile";
import { storeStripeEvent, StripeEventEnvelope } from "@/server/domain/billing/store-event";
import { stripeClient, stripeConfigForUrl } from "@/server/domain/billing/stripe-client";
import { REASONS } from "@/server/domain/billing/license-state";
import { resetEnvCache } from "@/server/env";
import { TEST_ADMIN_TOKEN, eventually, startApp, type TestApp } from "./helpers/app";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makePlan } from "./helpers/factories";
import { chargeObject, randomId, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";

/** A purchase whose events exist only in Stripe's events list: no webhook ever delivers them. */
function missedPurchase(fake: FakeStripe, priceId: string, created: number) {
  const pi = randomId("pi");
  const session = fake.addCheckoutSession({ payment_intent: pi }, [{ priceId }]);
  const charge = fake.put(chargeObject({ paymentIntent: pi, amount: 1000 }));
  fake.addEvent(stripeEvent("checkout.session.completed", session, { created }));
  return { session, charge, pi };
}

describe("Stripe reconciliation (domain)", () => {
  let database: TestDb;
  let fake: FakeStripe;
  let stripe: () => Stripe;
  let priceId: string;

  beforeAll(async () => {
    database = await createTestDatabase("reconcile");
    await useProcessDatabase(database.url);
    fake = await startFakeStripe();
    const client = new Stripe("sk_test_x", stripeConfigForUrl(fake.url));
    stripe = () => client;
    priceId = randomId("price");
    await makePlan(database.db, { seats: 1, stripePriceIds: [priceId] });
  });
  afterAll(async () => {
    await fake?.stop();
    await database?.drop();
  });
  afterEach(() => {
    fake.setDown(false);
    fake.maxPageSize = 100;
  });

  const reconcile = () => reconcileStripeEvents({ db: database.db, stripe });
  const processPending = async () => {
    const pending = await database.db.select({ id: stripeEvents.id }).from(stripeEvents).where(eq(stripeEvents.status, "pending"));
    for (const p of pending) await processStripeEvent(p.id, { db: database.db, stripe, retryBaseMs: 50 });
    return pending.length;
  };
  const nowS = () => Math.floor(Date.now() / 1000);

  it("with the webhook never called, issues the license, then applies a later refund", async () => {
    const p = missedPurchase(fake, priceId, nowS() - 3600);
    const first = await reconcile();
    expect(first).toMatchObject({ listed: 1, stored: 1, error: null, storedIds: [expect.stringMatching(/^evt_/)] });
    const [row] = await database.db.select().from(stripeEvents).where(eq(stripeEvents.id, first.storedIds[0]!));
    expect(row).toMatchObject({ receivedVia: "reconcile", status: "pending", type: "checkout.session.completed" });
    // Stored with its processing job, exactly as the webhook stores.
    const { rows } = await database.pool.query("select count(*)::int as n from graphile_worker._private_jobs where key = $1", [
      `stripe-event:${row!.id}`,
    ]);
    expect(rows[0].n).toBe(1);
    expect(await processPending()).toBe(1);
    const [issued] = await database.db.select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, p.session.id));
    expect(issued!.status).toBe("active");

    // Later the purchase is refunded; that webhook is missed too.
    fake.put({ ...p.charge, amount_refunded: 1000, refunded: true });
    const refundedAt = nowS() - 60;
    fake.addEvent(stripeEvent("charge.refunded", fake.objects.get(p.charge.id)!, { created: refundedAt }));
    const second = await reconcile();
    // The checkout event is listed again (inside the overlap window) but not stored twice.
    expect(second).toMatchObject({ listed: 2, stored: 1, error: null });
    await processPending();
    const [revoked] = await database.db.select().from(licenses).where(eq(licenses.id, issued!.id));
    expect(revoked).toMatchObject({ status: "revoked", statusReason: REASONS.refunded });

    const status = await reconciliationStatus(database.db);
    expect(status.lastRun).toMatchObject({ listed: 2, stored: 1, error: null });
    expect(status.cursor).toMatchObject({ created: refundedAt });
    expect(Date.parse(status.lastRun!.finishedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("pages through everything new, skips what the webhook already brought and types it does not act on", async () => {
    fake.maxPageSize = 7;
    const base = nowS();
    const events = Array.from({ length: 30 }, (_, i) => stripeEvent("invoice.paid", { id: randomId("in"), object: "invoice" }, { created: base + i }));
    events.forEach((e) => fake.addEvent(e));
    fake.addEvent(stripeEvent("payment_intent.created", { id: randomId("pi"), object: "payment_intent" }, { created: base + 5 }));
    for (const e of events.slice(0, 10)) await storeStripeEvent(database.db, StripeEventEnvelope.parse(e), "webhook");

    const before = fake.requestsTo("/v1/events").length;
    const run = await reconcile();
    expect(run.error).toBeNull();
    expect(run.stored).toBe(20);
    const pages = fake.requestsTo("/v1/events").slice(before);
    expect(pages.length).toBeGreaterThan(4);
    // Only the types Keystead acts on are asked for, from just before the last cursor.
    const q = pages[0]!.query;
    expect([...q.keys()].filter((k) => k.startsWith("types[")).length).toBe(HANDLED_EVENT_TYPES.length);
    // Stripe's events list takes at most 20 types.
    expect(HANDLED_EVENT_TYPES.length).toBeLessThanOrEqual(20);
    expect(Number(q.get("created[gte]"))).toBeLessThanOrEqual(base - 60 - RECONCILE_OVERLAP_SECONDS + 1);
    expect(pages[1]!.query.get("starting_after")).toBeTruthy();
    const stored = await database.db.select().from(stripeEvents).where(inArray(stripeEvents.id, events.map((e) => e.id)));
    expect(stored).toHaveLength(30);
    expect(stored.filter((r) => r.receivedVia === "webhook")).toHaveLength(10);
    expect((await reconciliationStatus(database.db)).cursor).toEqual({ created: base + 29, eventId: events[29]!.id });

    // Nothing new: lists the overlap again, stores nothing.
    const again = await reconcile();
    expect(again).toMatchObject({ stored: 0, error: null });
    expect(again.listed).toBeGreaterThanOrEqual(30);
  });

  it("records a failed run for the admin and keeps its cursor; the next run picks up", async () => {
    const cursor = (await reconciliationStatus(database.db)).cursor;
    const later = stripeEvent("invoice.paid", { id: randomId("in"), object: "invoice" }, { created: nowS() + 100 });
    fake.addEvent(later);
    fake.setDown("500");
    const failed = await reconcile();
    expect(failed.error).toMatch(/500|api_error|down/i);
    expect(failed.stored).toBe(0);
    const status = await reconciliationStatus(database.db);
    expect(status.lastRun!.error).toBe(failed.error);
    expect(status.cursor).toEqual(cursor);

    fake.setDown(false);
    const ok = await reconcile();
    expect(ok).toMatchObject({ stored: 1, error: null, storedIds: [later.id] });
  });

  it("says so when Stripe is not configured", async () => {
    delete process.env.STRIPE_SECRET_KEY;
    resetEnvCache();
    const run = await reconcileStripeEvents({ db: database.db, stripe: stripeClient });
    expect(run.error).toContain("STRIPE_SECRET_KEY");
    expect((await reconciliationStatus(database.db)).lastRun!.error).toContain("STRIPE_SECRET_KEY");
  });
});

describe("Stripe reconciliation (app)", () => {
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

  it("POST /api/v1/admin/stripe/reconcile alone issues a license and later revokes it for a refund", async () => {
    const priceId = randomId("price");
    await makePlan(app.database.db, { seats: 1, stripePriceIds: [priceId] });
    const p = missedPurchase(fake, priceId, Math.floor(Date.now() / 1000) - 600);
    const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const license = () => app.database.db.select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, p.session.id));

    expect(await app.post("/api/v1/admin/stripe/reconcile", undefined, auth)).toMatchObject({ status: 202, body: { queued: true } });
    const [issued] = await eventually(async () => ((await license()).length ? license() : undefined), 30_000, "the license");
    expect(issued!.status).toBe("active");

    fake.put({ ...p.charge, amount_refunded: 1000, refunded: true });
    fake.addEvent(stripeEvent("charge.refunded", fake.objects.get(p.charge.id)!));
    expect((await app.post("/api/v1/admin/stripe/reconcile", undefined, auth)).status).toBe(202);
    await eventually(async () => (await license())[0]?.status === "revoked", 30_000, "the refund to revoke it");

    const status = await reconciliationStatus(app.database.db);
    expect(status.lastRun).toMatchObject({ error: null, stored: 1 });
    expect(status.requestedAt).not.toBeNull();
    expect(status.webhookLastSeen).toBeNull();
  });
});
