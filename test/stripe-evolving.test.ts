import Stripe from "stripe";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, licenses } from "@/server/db/schema";
import { processStripeEvent, type ProcessDeps } from "@/server/domain/billing/apply-stripe-event";
import { reconcileStripeEvents } from "@/server/domain/billing/reconcile";
import { storeStripeEvent, StripeEventEnvelope } from "@/server/domain/billing/store-event";
import { stripeConfigForUrl } from "@/server/domain/billing/stripe-client";
import { setClock } from "@/server/domain/clock";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makePlan } from "./helpers/factories";
import { randomId, startFakeStripe, type FakeStripe } from "./helpers/fake-stripe";
import {
  allLateReversed,
  incompleteToCanceled,
  inOrder,
  LICENSE_FIELDS,
  Observations,
  pauseResume,
  planChange,
  randomSchedule,
  recoveredRenewal,
  trial,
  type History,
  type LicenseOutcome,
  type Observation,
  type Schedule,
} from "./helpers/stripe-histories";

/**
 * Late, reordered and repeated delivery while Stripe's objects keep changing underneath. stripe-order.test.ts
 * holds every object in its final state; here the fake API moves through a history step by step, and each
 * delivery is processed against the state Stripe is in at that moment, so processing reads intermediate states
 * (a subscription still past due, a trial not yet paid). Every schedule (in order, everything late and reversed,
 * and seeded random ones with redeliveries, replays under new ids, events only reconciliation finds, some with
 * each step's deliveries processed at the same time) must
 * end in the license a clean in-order run leaves, owing exactly the emails its observations call for, once.
 *
 * Runs are sequential: the domain clock follows the history's steps.
 */
const RANDOM_SCHEDULES = 8;
const TOGETHER_SCHEDULES = 3;

describe("Stripe events delivered while the objects evolve", () => {
  let database: TestDb;
  let fake: FakeStripe;
  let deps: ProcessDeps;
  const price = { life: randomId("price"), trial: randomId("price"), pause: randomId("price"), a: randomId("price"), b: randomId("price") };
  const plan = { a: "", b: "" };

  beforeAll(async () => {
    database = await createTestDatabase("evolving");
    await useProcessDatabase(database.url);
    fake = await startFakeStripe();
    deps = { db: database.db, stripe: () => new Stripe("sk_test_x", stripeConfigForUrl(fake.url)), retryBaseMs: 50 };
    await makePlan(database.db, { seats: 3, graceDays: 7, durationDays: null, stripePriceIds: [price.life, price.trial, price.pause] });
    plan.a = (await makePlan(database.db, { seats: 3, graceDays: 7, durationDays: null, stripePriceIds: [price.a] })).id;
    plan.b = (await makePlan(database.db, { seats: 5, graceDays: 7, durationDays: null, stripePriceIds: [price.b] })).id;
  });
  afterAll(async () => {
    setClock(undefined);
    await fake?.stop();
    await database?.drop();
  });
  afterEach(() => setClock(undefined));

  /** Plays one schedule of a history: the fake moves step by step, deliveries are processed in between. */
  async function play(h: History, schedule: Schedule) {
    const log: Observation[] = [];
    const counts = { redelivered: 0, replayed: 0, reconciled: 0 };
    const about = new Map(h.steps.flatMap((s) => s.events.map((e) => [e.event.id as string, e.about])));
    // What GET /v1/events lists: every event Stripe sent, whether or not the webhook brought it.
    fake.events.length = 0;
    for (const e of h.steps.flatMap((s) => s.events)) fake.addEvent(e.event);

    const process = async (eventId: string, step: number) => {
      const outcome = await processStripeEvent(eventId, deps);
      expect(["processed", "ignored"], `${schedule.name}: ${JSON.stringify(outcome)}`).toContain(outcome.status);
      log.push({ step, about: about.get(eventId)! });
    };
    /** Processes these events at the same time; a lost race (deadlock, serialization) is retried, as our backoff would. */
    const processTogether = async (eventIds: string[], step: number) => {
      let pending = eventIds;
      for (let round = 0; pending.length > 0; round++) {
        expect(round, `${schedule.name}: events still pending`).toBeLessThan(5);
        const outcomes = await Promise.all(pending.map((id) => processStripeEvent(id, deps)));
        outcomes.forEach((o, i) => {
          expect(["processed", "ignored", "retrying"], `${schedule.name}: ${JSON.stringify(o)}`).toContain(o.status);
          if (o.status !== "retrying") log.push({ step, about: about.get(pending[i]!)! });
        });
        pending = pending.filter((_, i) => outcomes[i]!.status === "retrying");
      }
    };
    for (const [k, step] of h.steps.entries()) {
      setClock(() => step.at);
      for (const o of step.objects) fake.put(o);
      const stored: string[] = [];
      for (const d of schedule.at[k]!) {
        if (!about.has(d.event.id)) counts.replayed++;
        about.set(d.event.id, d.about);
        // A redelivery of an event we already have is neither stored nor processed again.
        if (!(await storeStripeEvent(database.db, StripeEventEnvelope.parse(d.event), "webhook"))) counts.redelivered++;
        else if (schedule.together) stored.push(d.event.id);
        else await process(d.event.id, k);
      }
      await processTogether(stored, k);
    }
    // The reconciliation finds what the webhook never brought, at the last step.
    const run = await reconcileStripeEvents({ db: database.db, stripe: deps.stripe });
    expect(run.error).toBeNull();
    const neverDelivered = schedule.lost.map((d) => d.event.id as string).filter((id) => !schedule.at.some((slot) => slot.some((d) => d.event.id === id)));
    expect(run.storedIds.sort()).toEqual([...new Set(neverDelivered)].sort());
    for (const id of run.storedIds) await process(id, h.steps.length - 1);
    counts.reconciled = run.storedIds.length;
    return { log, counts, ...(await outcome(h)) };
  }

  async function outcome(h: History) {
    const rows = await database.db.select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, h.sessionId));
    expect(rows).toHaveLength(1);
    const l = rows[0]!;
    const fields = Object.fromEntries(
      LICENSE_FIELDS.map((f) => [f, l[f] instanceof Date ? (l[f] as Date).toISOString() : l[f]]),
    ) as LicenseOutcome;
    const emails = await database.db.select().from(emailOutbox).where(eq(emailOutbox.to, h.email));
    return { licenseId: l.id, fields, emails: emails.map((e) => ({ template: e.template, props: e.props as Record<string, unknown> })) };
  }

  // jsonb does not keep key order: compare emails by a canonical form.
  const canonical = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(canonical).join(",")}]`
      : v && typeof v === "object"
        ? `{${Object.keys(v).sort().map((k) => `${k}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`
        : JSON.stringify(v);

  /** The emails a run owes: every one whose rule its observations satisfy, each once. Returns which rules held. */
  function expectEmails(h: History, run: Awaited<ReturnType<typeof play>>, where: string) {
    const seen = new Observations(run.log, h.issuesFrom);
    const rules = h.emails(run.licenseId).map((e) => ({ ...e, owed: e.when ? e.when(seen) : true }));
    const want = rules.filter((e) => e.owed).map((e) => canonical(e.email)).sort();
    const got = run.emails.map(canonical).sort();
    expect(got, `${where}\nobservations: ${JSON.stringify(run.log)}`).toEqual(want);
    return rules.map((r) => r.owed);
  }

  /** A clean in-order run, checked against the history's own expectations; then every schedule against it. */
  async function everySchedule(make: () => History, seeds: number) {
    const clean = make();
    const reference = await play(clean, inOrder(clean));
    expect(reference.fields, `${clean.name}, in order`).toMatchObject(clean.expected);
    // In order, every state is seen while the license exists: every email the history can owe is owed.
    expect(reference.emails.map(canonical).sort()).toEqual(clean.emails(reference.licenseId).map((e) => canonical(e.email)).sort());
    expectEmails(clean, reference, `${clean.name}, in order`);

    const schedules: ((h: History) => Schedule)[] = [
      allLateReversed,
      ...Array.from({ length: seeds }, (_, i) => (h: History) => randomSchedule(h, 1000 + i)),
      ...Array.from({ length: TOGETHER_SCHEDULES }, (_, i) => (h: History) => randomSchedule(h, 2000 + i, { together: true })),
    ];
    const outcomes: boolean[][] = [];
    const total = { redelivered: 0, replayed: 0, reconciled: 0 };
    for (const schedule of schedules) {
      const h = make();
      const s = schedule(h);
      const run = await play(h, s);
      const where = `${h.name}, ${s.name}`;
      expect({ ...run.fields }, where).toEqual({ ...reference.fields });
      outcomes.push(expectEmails(h, run, where));
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += run.counts[k];
    }
    // Every kind of fault happened in some schedule: redeliveries, replays under new ids, events only reconciliation found.
    expect(Object.values(total).every((n) => n > 0), JSON.stringify(total)).toBe(true);
    // The schedules reach both sides of every conditional email: some runs saw the state that owes it, some did not.
    clean.emails(reference.licenseId).forEach((e, i) => {
      if (e.when) expect(new Set(outcomes.map((o) => o[i])), `${clean.name}: ${e.email.template} owed and not owed`).toEqual(new Set([true, false]));
    });
  }

  it("incomplete, active, renewed, past due, cancelled", async () => {
    await everySchedule(() => incompleteToCanceled(fake, price.life), RANDOM_SCHEDULES);
  }, 120_000);

  it("a renewal that fails, is retried and paid, then a cancellation scheduled and undone", async () => {
    await everySchedule(() => recoveredRenewal(fake, price.life), RANDOM_SCHEDULES);
  }, 120_000);

  it("a trial that is paid at its end and renews", async () => {
    await everySchedule(() => trial(fake, price.trial, "converts"), RANDOM_SCHEDULES);
  }, 120_000);

  it("a trial that ends unpaid and is cancelled", async () => {
    await everySchedule(() => trial(fake, price.trial, "lapses"), RANDOM_SCHEDULES);
  }, 120_000);

  it("paused, then resumed", async () => {
    await everySchedule(() => pauseResume(fake, price.pause), RANDOM_SCHEDULES);
  }, 120_000);

  it("a price change, then a quantity change", async () => {
    await everySchedule(() => planChange(fake, { a: price.a, b: price.b }, { a: plan.a, b: plan.b, seatsA: 3 }), RANDOM_SCHEDULES);
  }, 120_000);
});
