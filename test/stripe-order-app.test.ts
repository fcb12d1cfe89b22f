import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, licenses, stripeEvents } from "@/server/db/schema";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { makePlan } from "./helpers/factories";
import { randomId, signedWebhook, startFakeStripe, type FakeStripe } from "./helpers/fake-stripe";
import { cloneEvent, purchaseRefundDispute, subscriptionLifecycle, type Scenario } from "./helpers/stripe-scenarios";

/**
 * The order proof end to end: the same histories as stripe-order.test.ts posted to the real app's webhook
 * (signed like Stripe signs), last event first and all at once with duplicates, processed by the app's own worker
 * (4 jobs at a time) against the fake Stripe API.
 */
describe("Stripe events out of order through the webhook", () => {
  let app: TestApp;
  let fake: FakeStripe;
  let subPriceId: string;
  let oneTimePriceId: string;

  beforeAll(async () => {
    fake = await startFakeStripe();
    app = await startApp({ env: { STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_URL: fake.url } });
    subPriceId = randomId("price");
    oneTimePriceId = randomId("price");
    await makePlan(app.database.db, { seats: 3, graceDays: 7, stripePriceIds: [subPriceId] });
    await makePlan(app.database.db, { seats: 1, stripePriceIds: [oneTimePriceId] });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
  });

  const db = () => app.database.db;
  const post = (event: Record<string, unknown>) => {
    const { body, headers } = signedWebhook(event);
    return app.post("/api/stripe/webhook", body, headers);
  };
  const allSettled = (ids: string[]) =>
    eventually(
      async () => {
        const rows = await db().select().from(stripeEvents).where(inArray(stripeEvents.id, ids));
        return rows.length === ids.length && rows.every((r) => r.status !== "pending") ? rows : undefined;
      },
      60_000,
      "every event to be settled",
    );

  async function expectFinal(s: Scenario, order: number[]) {
    const [l] = await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, s.sessionId));
    expect(l).toBeDefined();
    expect({ status: l!.status, expiresAt: l!.expiresAt?.toISOString() ?? null }).toEqual({ status: s.expected.status, expiresAt: s.expected.expiresAt });
    const emails = await db().select().from(emailOutbox).where(eq(emailOutbox.to, s.email));
    // jsonb does not keep key order: compare as objects, each list sorted by template.
    const byTemplate = (a: { template: string }, b: { template: string }) => a.template.localeCompare(b.template);
    const got = emails.map((e) => ({ template: e.template, props: e.props })).sort(byTemplate);
    expect(got).toEqual(s.emails(order, l!.id).sort(byTemplate));
  }

  it("a subscription's five events, last first: the same license, expiry and emails as in order", async () => {
    const s = subscriptionLifecycle(fake, { priceId: subPriceId, ending: "cancel-scheduled" });
    // The app's clock is the wall clock: this history's dates are in 2031, so its grace has not run out.
    const order = [4, 3, 2, 1, 0];
    for (const i of order) {
      const res = await post(s.events[i]!);
      expect(res.status).toBe(200);
      // One at a time: each is processed before the next is sent, so the order really is this one.
      await allSettled([s.events[i]!.id]);
    }
    const rows = await allSettled(s.events.map((e) => e.id));
    expect(rows.every((r) => r.status === "processed")).toBe(true);
    await expectFinal(s, order);
  });

  it("every event of a history posted at once, each twice and once more under a new id: one outcome", async () => {
    for (const make of [
      () => subscriptionLifecycle(fake, { priceId: subPriceId, ending: "ended" }),
      () => purchaseRefundDispute(fake, { priceId: oneTimePriceId, variant: "partial-open" }),
    ]) {
      const s = make();
      const clones = s.events.map(cloneEvent);
      const answers = await Promise.all([...s.events, ...s.events, ...clones].map(post));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const rows = await allSettled([...s.events, ...clones].map((e) => e.id));
      expect(rows.every((r) => r.status === "processed"), JSON.stringify(rows.map((r) => [r.type, r.status, r.lastError]))).toBe(true);
      await expectFinal(s, s.events.map((_, i) => i));
    }
  });
});
