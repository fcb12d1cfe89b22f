import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { appState, emailOutbox, stripeEvents, usageDaily } from "@/server/db/schema";
import { setupStatus } from "@/server/domain/admin/setup";
import { setClock } from "@/server/domain/clock";
import { addUsage, countUsage, flushUsage, pendingUsage } from "@/server/domain/usage/counter";
import { createPool, dbFromPool } from "@/server/db/client";
import { parseEnv } from "@/server/env";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeLicense, makePlan } from "./helpers/factories";

// The admin dashboard's figures, the first-run checklist and the daily usage counter, on a real database.

let database: TestDb;
beforeAll(async () => {
  database = await createTestDatabase("dashboard");
});
afterAll(async () => {
  await database?.drop();
});

const admin: AppSession = { user: { id: crypto.randomUUID(), email: "admin@example.com", isAdmin: true }, customerId: null };
const asAdmin = () => createCaller({ db: database.db, session: admin, headers: new Headers() });

describe("the usage counter", () => {
  it("adds counts up in memory and writes them in one upsert, adding to what is there", async () => {
    await flushUsage(database.db);
    const at = new Date("2030-03-04T10:00:00Z");
    for (let i = 0; i < 1000; i++) countUsage("validations", () => database.db, 1, at);
    countUsage("activations", () => database.db, 3, at);
    expect(pendingUsage()).toBe(1003);
    // Nothing is written per count.
    expect(await database.db.select().from(usageDaily)).toHaveLength(0);

    await flushUsage(database.db);
    expect(pendingUsage()).toBe(0);
    countUsage("validations", () => database.db, 5, at);
    await flushUsage(database.db);
    const rows = await database.db.select().from(usageDaily).where(eq(usageDaily.day, "2030-03-04"));
    expect(Object.fromEntries(rows.map((r) => [r.metric, r.count]))).toEqual({ validations: 1005, activations: 3 });
  });

  it("replicas flushing at the same moment add up instead of overwriting", async () => {
    // Two pools on one database stand for two replicas; 40 upserts of the same row race.
    const second = createPool(database.url, 10);
    onTestFinished(() => second.end());
    const replicas = [database.db, dbFromPool(second)];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => addUsage(replicas[i % 2]!, [{ day: "2030-03-05", metric: "validations", count: 1 }])),
    );
    // And this process's own pending counts, flushed twice at once: written exactly once.
    countUsage("validations", () => database.db, 10, new Date("2030-03-05T10:00:00Z"));
    await Promise.all([flushUsage(database.db), flushUsage(database.db)]);
    const [row] = await database.db.select().from(usageDaily).where(eq(usageDaily.day, "2030-03-05"));
    expect(row!.count).toBe(50);
  });

  it("puts counts back when the write fails, so the next flush carries them", async () => {
    const broken = await createTestDatabase("dashboard3");
    await broken.drop();
    countUsage("validations", () => broken.db, 7, new Date("2030-03-06T00:00:00Z"));
    await expect(flushUsage(broken.db)).rejects.toThrow();
    expect(pendingUsage()).toBe(7);
    await flushUsage(database.db);
    const [row] = await database.db.select().from(usageDaily).where(eq(usageDaily.day, "2030-03-06"));
    expect(row!.count).toBe(7);
  });
});

describe("the dashboard", () => {
  it("counts licenses, failed emails, waiting and failed Stripe events, and the webhook's last visit", async () => {
    const plan = await makePlan(database.db);
    await makeLicense(database.db, { planId: plan.id });
    await makeLicense(database.db, { planId: plan.id });
    await database.db.insert(emailOutbox).values([
      { dedupeKey: "x1", template: "license-issued", to: "a@example.com", props: {}, status: "failed" },
      { dedupeKey: "x2", template: "license-issued", to: "a@example.com", props: {}, status: "sent" },
    ]);
    const event = (id: string, status: "pending" | "failed" | "processed") => ({
      id,
      type: "checkout.session.completed",
      stripeCreatedAt: new Date(),
      payload: {},
      status,
    });
    await database.db.insert(stripeEvents).values([event("evt_1", "pending"), event("evt_2", "failed"), event("evt_3", "failed"), event("evt_4", "processed")]);

    expect(await asAdmin().dashboard.summary()).toMatchObject({
      activeLicenses: 2,
      activations: 0,
      failedEmails: 1,
      pendingStripeEvents: 1,
      failedStripeEvents: 2,
      webhookLastSeen: null,
    });
    await database.db.insert(appState).values({
      key: "stripe.webhook_last_seen",
      value: { at: "2030-01-01T00:00:00.000Z", eventId: "evt_1", type: "checkout.session.completed" },
    });
    expect((await asAdmin().dashboard.summary()).webhookLastSeen).toEqual({
      at: "2030-01-01T00:00:00.000Z",
      eventId: "evt_1",
      type: "checkout.session.completed",
    });
  });

  it("charts licenses issued and counted usage per UTC day, with zeros for quiet days", async () => {
    setClock(() => new Date("2030-03-06T15:00:00Z"));
    onTestFinished(() => setClock(undefined));
    const plan = await makePlan(database.db);
    // makeLicense stamps created_at with the domain clock.
    await makeLicense(database.db, { planId: plan.id });
    setClock(() => new Date("2030-03-04T23:59:00Z"));
    await makeLicense(database.db, { planId: plan.id });
    setClock(() => new Date("2030-03-06T15:00:00Z"));

    const series = await asAdmin().dashboard.series({ days: 7 });
    expect(series.map((p) => p.day)).toEqual(["2030-02-28", "2030-03-01", "2030-03-02", "2030-03-03", "2030-03-04", "2030-03-05", "2030-03-06"]);
    const byDay = Object.fromEntries(series.map((p) => [p.day, p]));
    expect(byDay["2030-03-06"]).toMatchObject({ issued: 1, validations: 7 });
    expect(byDay["2030-03-04"]).toMatchObject({ issued: 1, validations: 1005, activations: 3 });
    expect(byDay["2030-03-05"]).toMatchObject({ issued: 0, validations: 50, activations: 0 });
    expect(byDay["2030-03-01"]).toEqual({ day: "2030-03-01", issued: 0, validations: 0, activations: 0 });
  });
});

describe("the first-run checklist", () => {
  // A development process: the setup page is judged on these settings alone, and only development may leave
  // AUTH_SECRET unset.
  const settings = (source: Record<string, string>) => parseEnv({ NODE_ENV: "development", ...source });
  it("names each missing piece with a fix, and is complete once all are there", async () => {
    const empty = await createTestDatabase("setup");
    onTestFinished(() => empty.drop());
    const bare = settings({ APP_URL: "https://licenses.example.com" });
    const first = await setupStatus(empty.db, bare);
    expect(first.complete).toBe(false);
    expect(first.missing).toBe(4);
    expect(Object.fromEntries(first.checks.map((c) => [c.id, c.ok]))).toEqual({ product: false, stripe: false, email: false, webhook: false });
    const stripe = first.checks.find((c) => c.id === "stripe")!;
    expect(stripe.status).toBe("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set.");
    expect(stripe.fix.join(" ")).toContain("Add a webhook endpoint for https://licenses.example.com/api/stripe/webhook");
    // A public URL is Stripe's to call: no advice to forward events from the Stripe CLI.
    expect(stripe.fix.join(" ")).not.toContain("stripe listen --forward-to");
    for (const c of first.checks) expect(c.fix.length, c.id).toBeGreaterThan(0);

    // Stripe cannot reach localhost: forward with the Stripe CLI there, and use the public URL in production.
    const local = (await setupStatus(empty.db, settings({ APP_URL: "http://localhost:3000" }))).checks.find((c) => c.id === "stripe")!;
    expect(local.fix.join(" ")).toContain("`stripe listen --forward-to http://localhost:3000/api/stripe/webhook`");
    expect(local.fix.join(" ")).toContain("In production, set APP_URL to the public URL");
    expect(local.fix.join(" ")).not.toContain("Add a webhook endpoint for http://localhost:3000");

    await makePlan(empty.db);
    await empty.db.insert(appState).values({ key: "stripe.webhook_last_seen", value: { at: new Date().toISOString(), eventId: "evt_x", type: "ping" } });
    const configured = settings({
      APP_URL: "https://licenses.example.com",
      STRIPE_SECRET_KEY: "sk_test_123",
      STRIPE_WEBHOOK_SECRET: "whsec_123",
      SMTP_URL: "smtp://mail.example.com:587",
    });
    const done = await setupStatus(empty.db, configured);
    expect(done).toMatchObject({ complete: true, missing: 0 });
    for (const c of done.checks) expect(c.fix).toEqual([]);

    const half = await setupStatus(empty.db, settings({ STRIPE_SECRET_KEY: "sk_test_123" }));
    expect(half.checks.find((c) => c.id === "stripe")!.status).toBe("STRIPE_WEBHOOK_SECRET is not set.");
  });
});
