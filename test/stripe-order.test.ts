import Stripe from "stripe";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, licenses, stripeEvents } from "@/server/db/schema";
import { processStripeEvent, type ProcessDeps } from "@/server/domain/billing/apply-stripe-event";
import { storeStripeEvent, StripeEventEnvelope } from "@/server/domain/billing/store-event";
import { stripeConfigForUrl } from "@/server/domain/billing/stripe-client";
import { setClock } from "@/server/domain/clock";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makePlan } from "./helpers/factories";
import { randomId, startFakeStripe, type FakeStripe } from "./helpers/fake-stripe";
import { cloneEvent, permutations, purchaseRefundDispute, subscriptionLifecycle, type Scenario } from "./helpers/stripe-scenarios";

/**
 * THE PROOF that the order and duplication of Stripe's events do not matter. For each history the fake API holds
 * every object as it is after all of the history's events, and the events are delivered in every possible order
 * (each one also delivered twice under its own id, then all of them again under new ids, as sibling events and
 * replays would be). Every run must end in the same license state and expiry, with the same emails owed once.
 *
 * Domain level (storeStripeEvent + processStripeEvent, as the webhook and the worker call them) against one
 * database, a fresh set of Stripe objects per run.
 */
describe("Stripe events in any order, any number of times", () => {
  let database: TestDb;
  let fake: FakeStripe;
  let deps: ProcessDeps;
  let subPriceId: string;
  let oneTimePriceId: string;

  beforeAll(async () => {
    database = await createTestDatabase("order");
    await useProcessDatabase(database.url);
    fake = await startFakeStripe();
    deps = { db: database.db, stripe: () => new Stripe("sk_test_x", stripeConfigForUrl(fake.url)), retryBaseMs: 50 };
    subPriceId = randomId("price");
    oneTimePriceId = randomId("price");
    await makePlan(database.db, { seats: 3, graceDays: 7, durationDays: null, stripePriceIds: [subPriceId] });
    await makePlan(database.db, { seats: 1, durationDays: null, stripePriceIds: [oneTimePriceId] });
  });
  afterAll(async () => {
    setClock(undefined);
    await fake?.stop();
    await database?.drop();
  });
  afterEach(() => setClock(undefined));

  const deliver = async (event: Record<string, unknown>, expectNew = true) => {
    expect(await storeStripeEvent(database.db, StripeEventEnvelope.parse(event), "webhook")).toBe(expectNew);
    if (!expectNew) return;
    const outcome = await processStripeEvent(event.id as string, deps);
    expect(outcome.status, JSON.stringify(outcome)).toBe("processed");
  };

  async function finalState(s: Scenario) {
    const rows = await database.db.select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, s.sessionId));
    expect(rows).toHaveLength(1);
    const l = rows[0]!;
    const emails = await database.db.select().from(emailOutbox).where(eq(emailOutbox.to, s.email));
    return { license: l, emails };
  }

  function check(s: Scenario, order: number[], state: Awaited<ReturnType<typeof finalState>>) {
    const { license: l, emails } = state;
    const where = `${s.name}, order ${order.join(",")}`;
    expect(
      {
        status: l.status,
        expiresAt: l.expiresAt?.toISOString() ?? null,
        ...("cancelAt" in s.expected ? { cancelAt: l.cancelAt?.toISOString() ?? null } : {}),
        ...("autoRenews" in s.expected ? { autoRenews: l.autoRenews } : {}),
        ...("statusReason" in s.expected ? { statusReason: l.statusReason } : {}),
      },
      where,
    ).toEqual(s.expected);
    const got = emails.map((e) => ({ template: e.template, props: e.props })).sort(byJson);
    const want = s.emails(order, l.id).sort(byJson);
    expect(got, where).toEqual(want);
    // No email owed twice: one row per template and subject, whatever the keys.
    const logical = emails.map((e) => `${e.template}:${JSON.stringify(e.props)}`);
    expect(new Set(logical).size, where).toBe(logical.length);
  }
  // By template (unique within a history): jsonb does not keep key order, so no whole-object string compare.
  const byJson = (a: { template: string }, b: { template: string }) => a.template.localeCompare(b.template);

  /** Delivers a history in `order`, each event twice, then every event again under a new id, in reverse. */
  async function run(make: () => Scenario, order: number[]) {
    const s = make();
    for (const i of order) {
      await deliver(s.events[i]!);
      await deliver(s.events[i]!, false);
    }
    const settled = await finalState(s);
    check(s, order, settled);
    for (const i of [...order].reverse()) await deliver(cloneEvent(s.events[i]!));
    const again = await finalState(s);
    check(s, order, again);
    // The replays changed nothing at all.
    expect(again.license.updatedAt.getTime()).toBe(settled.license.updatedAt.getTime());
    return s;
  }

  /**
   * Runs every order; runs are independent (their own Stripe objects, customer and license), so a few go at
   * once. The domain clock is the same for all runs of one history.
   */
  async function everyOrder(make: () => Scenario, n: number) {
    const orders = permutations(n);
    setClock(() => make().now);
    const lanes = 6;
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < orders.length) await run(make, orders[next++]!);
      }),
    );
    return orders.length;
  }

  for (const ending of ["cancel-scheduled", "ended"] as const) {
    it(`subscription: checkout, first invoice, renewal, failed renewal, ${ending === "ended" ? "ended" : "cancellation"}: all 120 orders agree`, async () => {
      expect(await everyOrder(() => subscriptionLifecycle(fake, { priceId: subPriceId, ending }), 5)).toBe(120);
    }, 300_000);
  }

  for (const variant of ["partial-open", "full-lost"] as const) {
    it(`purchase + refund + dispute (${variant}): all 6 orders agree`, async () => {
      expect(await everyOrder(() => purchaseRefundDispute(fake, { priceId: oneTimePriceId, variant }), 3)).toBe(6);
    });
  }

  it("purchase + partial refund + dispute opened then won: all 24 orders agree", async () => {
    expect(await everyOrder(() => purchaseRefundDispute(fake, { priceId: oneTimePriceId, variant: "partial-won" }), 4)).toBe(24);
  });

  it("ends the same when every event of a history is processed at the same time", async () => {
    for (let round = 0; round < 8; round++) {
      for (const make of [
        () => subscriptionLifecycle(fake, { priceId: subPriceId, ending: round % 2 ? "ended" : "cancel-scheduled" }),
        () => purchaseRefundDispute(fake, { priceId: oneTimePriceId, variant: round % 2 ? "full-lost" : "partial-open" }),
      ]) {
        const s = make();
        setClock(() => s.now);
        for (const e of s.events) expect(await storeStripeEvent(database.db, StripeEventEnvelope.parse(e), "webhook")).toBe(true);
        // Each event twice at once too: a duplicate job racing its original.
        const outcomes = await Promise.all(s.events.flatMap((e) => [processStripeEvent(e.id, deps), processStripeEvent(e.id, deps)]));
        for (const o of outcomes) expect(["processed", "skipped", "retrying"]).toContain(o.status);
        // A lost race (a deadlock or serialization failure) is retried by our backoff: run the retries now.
        for (let i = 0; i < 5; i++) {
          const pending = await database.db.select({ id: stripeEvents.id }).from(stripeEvents).where(eq(stripeEvents.status, "pending"));
          if (pending.length === 0) break;
          await Promise.all(pending.map((p) => processStripeEvent(p.id, deps)));
        }
        const state = await finalState(s);
        const { license: l } = state;
        expect(l.status, s.name).toBe(s.expected.status);
        expect(l.expiresAt?.toISOString() ?? null, s.name).toBe(s.expected.expiresAt);
        const logical = state.emails.map((e) => `${e.template}:${JSON.stringify(e.props)}`);
        expect(new Set(logical).size).toBe(logical.length);
        // Which emails a revoked purchase owes depends on the order (see the scenario); the others' do not.
        if (!s.name.includes("full-lost")) check(s, s.events.map((_, i) => i), state);
      }
    }
  });
});
