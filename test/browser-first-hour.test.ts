import crypto from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import { emailOutbox } from "@/server/db/schema";
import { reconcileStripeEvents } from "@/server/domain/billing/reconcile";
import { stripeClient } from "@/server/domain/billing/stripe-client";
import { noteRejectedWebhook } from "@/server/domain/billing/webhook";
import { AppError } from "@/server/domain/errors";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { LAPTOP, PHONE, launchBrowser, newPerson, screenshot, signInAsAdmin } from "./helpers/browser";
import { signedWebhook, stripeEvent } from "./helpers/fake-stripe";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";
import { adminSession } from "./helpers/trpc";

// An operator's first hour against the real built app: Stripe calls with the wrong signing secret (counted and
// shown as "arriving but rejected", not "never seen"), then with the right one, with the longest kind of event
// type; the status pages fit a laptop and a phone. Screenshots: test-artifacts/screenshots/first-hour-*.png.

const ADMIN = "operator@example.com";
// A real Stripe event type, one long unbreakable word on a phone.
const LONG_TYPE = "customer.subscription.pending_update_expired";

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
let laptop: { context: BrowserContext; page: Page; problems: string[] };

beforeAll(async () => {
  catcher = await startSmtpCatcher();
  // No STRIPE_SECRET_KEY: a fresh install that has only the webhook secret so far.
  app = await startApp({ env: { SMTP_URL: catcher.url, ADMIN_EMAILS: ADMIN } });
  browser = await launchBrowser();
  laptop = await newPerson(browser, LAPTOP);
  await signInAsAdmin(laptop.page, app.url, catcher, ADMIN);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await catcher?.stop();
});

const admin = () => createCaller({ db: app.database.db, session: adminSession(ADMIN), headers: new Headers() });

const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/** Visits a page on the laptop and on a phone (same session), screenshots both, and checks neither scrolls sideways. */
async function fitsBothScreens(path: string, ready: (page: Page) => Promise<unknown>, name: string) {
  const phone = await browser.newContext({ ...PHONE, storageState: await laptop.context.storageState() });
  try {
    for (const [page, width, device] of [
      [laptop.page, LAPTOP.viewport.width, "laptop"],
      [await phone.newPage(), PHONE.viewport.width, "phone"],
    ] as const) {
      await page.goto(`${app.url}${path}`);
      await ready(page);
      await screenshot(page, `first-hour-${name}-${device}`);
      expect(await pageWidth(page), `${path} on a ${device}`).toBeLessThanOrEqual(width);
    }
  } finally {
    await phone.close();
  }
}

/** A badge keeps its own height beside a taller neighbour (a button, a card title) instead of stretching. */
async function expectUnstretched(page: Page, text: string) {
  const box = await page.locator("span", { hasText: new RegExp(`^${text}$`) }).first().boundingBox();
  expect(box, `badge "${text}"`).not.toBeNull();
  expect(box!.height, `badge "${text}" height`).toBeLessThan(26);
}

describe("webhook deliveries Stripe sends with the wrong secret", () => {
  it("are counted with their last time, in a few batched writes however many arrive", async () => {
    // Counts the writes to the counter's row, to prove a flood of refusals is not a flood of writes.
    await app.database.pool.query(`
      create table rejected_writes (n int not null);
      insert into rejected_writes values (0);
      create function count_rejected_write() returns trigger language plpgsql as $$
        begin
          if new.key = 'stripe.webhook_rejected' then update rejected_writes set n = n + 1; end if;
          return new;
        end $$;
      create trigger count_rejected_write after insert or update on app_state for each row execute function count_rejected_write();
    `);
    const before = Date.now();
    const forged = () => signedWebhook(stripeEvent("checkout.session.completed", { id: `cs_${crypto.randomUUID()}` }), { secret: "whsec_not_the_one" });
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => {
        const { body, headers } = forged();
        return app.post("/api/stripe/webhook", body, headers);
      }),
    );
    const unsigned = await app.post("/api/stripe/webhook", forged().body, { "content-type": "application/json" });
    expect([...answers, unsigned].map((a) => a.body.error?.code)).toEqual(Array(41).fill("INVALID_SIGNATURE"));

    // Another process refusing for want of a secret adds to the same count.
    noteRejectedWebhook(app.database.db, new AppError("NOT_CONFIGURED", "STRIPE_WEBHOOK_SECRET is not set"));

    const rejected = await eventually(
      async () => {
        const r = (await admin().settings.status()).stripe.webhookRejected;
        return r && r.count === 42 ? r : undefined;
      },
      30_000,
      "42 rejected deliveries to be recorded",
    );
    expect(rejected).toMatchObject({ invalidSignature: 41, notConfigured: 1 });
    expect(Date.parse(rejected.lastAt)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(rejected.lastAt)).toBeLessThanOrEqual(Date.now());
    const writes = (await app.database.pool.query("select n from rejected_writes")).rows[0].n;
    // Per process: the first refusal at once, the rest of each 5 s window in one upsert.
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(writes).toBeLessThanOrEqual(5);

    const webhook = (await admin().dashboard.setup()).checks.find((c) => c.id === "webhook")!;
    expect(webhook.ok).toBe(false);
    expect(webhook.status).toMatch(/^Webhooks are arriving but rejected: 42 deliveries rejected, the last at \S+ \(/);
    expect(webhook.fix.join(" ")).toContain("STRIPE_WEBHOOK_SECRET");
  });

  it("Settings and Setup say so, and a fresh install shows no reconciliation alarm", async () => {
    // What the scheduled reconciliation records on a server without STRIPE_SECRET_KEY.
    const run = await reconcileStripeEvents({ db: app.database.db, stripe: stripeClient });
    expect(run.error).toContain("STRIPE_SECRET_KEY");
    expect((await admin().settings.status()).stripe.reconcileOff).toBe(true);

    await fitsBothScreens(
      "/admin/settings",
      (page) => page.getByText("arriving but rejected: 42").waitFor(),
      "settings",
    );
    const settings = await laptop.page.locator("main").innerText();
    expect(settings).not.toContain("stopped early");
    expect(settings).toContain("runs every 10 minutes once STRIPE_SECRET_KEY is set");

    await fitsBothScreens(
      "/admin/setup",
      (page) => page.getByText(/Webhooks are arriving but rejected: 42 deliveries/).waitFor(),
      "setup-rejected",
    );
    // http://127.0.0.1 is not reachable by Stripe: the advice is `stripe listen` here, the public URL in production.
    const setup = await laptop.page.locator("main").innerText();
    expect(setup).toContain(`stripe listen --forward-to ${app.url}/api/stripe/webhook`);
    expect(setup).toContain("In production, set APP_URL to the public URL");
    await expectUnstretched(laptop.page, "missing");
  });
});

describe("status pages once a webhook arrived", () => {
  it("fit a laptop and a phone with a long event type, and show emails waiting for a provider", async () => {
    const { body, headers } = signedWebhook(stripeEvent(LONG_TYPE, { id: `sub_${crypto.randomUUID()}`, object: "subscription" }));
    expect((await app.post("/api/stripe/webhook", body, headers)).status).toBe(200);
    // A row a production process without a provider left waiting.
    await app.database.db.insert(emailOutbox).values({
      dedupeKey: `held:${crypto.randomUUID()}`,
      template: "license-issued",
      to: "held@example.com",
      props: { licenseIds: [crypto.randomUUID()] },
      status: "waiting",
    });

    await fitsBothScreens(
      "/admin",
      async (page) => {
        await page.getByText(LONG_TYPE, { exact: false }).waitFor();
        await page.getByText("1 email waiting for an email provider").waitFor();
        await page.getByRole("figure", { name: /^Licenses issued/ }).waitFor();
      },
      "dashboard",
    );
    await fitsBothScreens("/admin/setup", (page) => page.getByText(`Last webhook: ${LONG_TYPE}`).waitFor(), "setup");
    await expectUnstretched(laptop.page, "done");
    await fitsBothScreens("/admin/stripe-events", (page) => page.getByRole("link", { name: LONG_TYPE }).waitFor(), "stripe-events");
    await laptop.page.getByRole("link", { name: LONG_TYPE }).click();
    await laptop.page.getByRole("heading", { name: LONG_TYPE }).waitFor();
    const detail = new URL(laptop.page.url()).pathname;
    // Unhandled types are stored and then marked ignored by the worker.
    await fitsBothScreens(detail, (page) => page.getByText("ignored").first().waitFor(), "stripe-event");
    await expectUnstretched(laptop.page, "ignored");
    await fitsBothScreens("/admin/emails", (page) => page.getByText("1 email waiting for an email provider").waitFor(), "emails");

    expect(laptop.problems).toEqual([]);
  });
});
