import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { licenses } from "@/server/db/schema";
import { SYSTEM } from "@/server/domain/audit/record";
import { DEFAULT_SHOP_SETTINGS, saveShopSettings } from "@/server/domain/shop/settings";
import { eventually } from "./helpers/app";
import { LAPTOP, PHONE, newPerson, overflowsHorizontally, screenshot, signInAsAdmin, startBrowserApp, stopBrowserApp, type BrowserApp } from "./helpers/browser";
import { makeProduct, makePlan } from "./helpers/factories";
import { signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";

// The shop in real Chromium: the pricing page, Buy (our route makes the session at the fake Stripe, its page
// "pays", the webhook follows), the success page waiting and then showing the key, a trial started and refused
// the second time, the portal's billing, and the admin's shop settings. Screenshots of each at laptop and phone
// size: test-artifacts/screenshots/shop-*.png.

const ADMIN = "owner@example.com";
let parts: BrowserApp;
let fake: FakeStripe;
let trialPlan: string;

beforeAll(async () => {
  fake = await startFakeStripe();
  parts = await startBrowserApp({ STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_URL: fake.url, ADMIN_EMAILS: ADMIN, CHECKOUT_HEAL_AFTER_SECONDS: "600" });
  const db = parts.app.database.db;
  const oneTime = fake.addPrice({ unitAmount: 4900 }).id;
  const monthly = fake.addPrice({ unitAmount: 900, interval: "month" }).id;
  const yearly = fake.addPrice({ unitAmount: 24900, interval: "year" }).id;
  const product = await makeProduct(db, { name: "Acme Editor" });
  const solo = await makePlan(db, { productId: product.id, name: "Solo", seats: 1, entitlements: ["export-pdf", "themes"], stripePriceIds: [oneTime], trialDays: 14 });
  const team = await makePlan(db, { productId: product.id, name: "Team", seats: 5, entitlements: ["export-pdf", "themes", "shared-workspaces", "priority-support"], stripePriceIds: [monthly, yearly] });
  trialPlan = solo.slug;
  await db.transaction((tx) =>
    saveShopSettings(tx, SYSTEM, {
      ...DEFAULT_SHOP_SETTINGS,
      name: "Acme Software",
      logoText: "AS",
      accentColour: "#f59e0b",
      tagline: "Tools for writers who ship. Keys arrive the moment you pay.",
      planOptions: {
        [solo.id]: { description: "Everything you need on your own machine.", automaticTax: false, promotionCodes: true, listed: true },
        [team.id]: { description: "For small teams that write together.", automaticTax: false, promotionCodes: false, listed: true },
      },
    }),
  );
});
afterAll(async () => {
  await stopBrowserApp(parts ?? {});
  await fake?.stop();
});

const url = (path: string) => `${parts.app.url}${path}`;

async function bothSizes(path: string, name: string, ready: (page: Page) => Promise<unknown>, storage?: Awaited<ReturnType<import("playwright-core").BrowserContext["storageState"]>>) {
  for (const [device, size] of [["laptop", LAPTOP], ["phone", PHONE]] as const) {
    const context = await parts.browser.newContext({ ...size, ...(storage ? { storageState: storage } : {}) });
    const page = await context.newPage();
    try {
      await page.goto(url(path));
      await ready(page);
      await screenshot(page, `shop-${name}-${device}`);
      expect(await overflowsHorizontally(page), `${path} on a ${device}`).toBe(false);
    } finally {
      await context.close();
    }
  }
}

describe("the pricing page", () => {
  it("shows each plan with its Stripe prices, features, Buy and trial buttons, on a laptop and a phone", async () => {
    await bothSizes("/pricing", "pricing", async (page) => {
      await page.getByRole("heading", { name: "Pricing" }).waitFor();
      await page.getByText("$49").waitFor();
      await page.getByText("$249").waitFor();
      expect(await page.getByRole("button", { name: /^Subscribe: Acme Editor Team/ }).count()).toBe(2);
      await page.getByRole("button", { name: "Start 14-day free trial: Acme Editor Solo" }).waitFor();
      await page.getByText("Shared workspaces").waitFor();
    });
    const home = await newPerson(parts.browser);
    await home.page.goto(url("/"));
    await home.page.getByRole("link", { name: "Pricing" }).click();
    await home.page.waitForURL(url("/pricing"));
    await home.context.close();
  });
});

describe("buying", () => {
  it("Buy opens Stripe Checkout, the success page waits for the webhook, then shows the key", async () => {
    const buyer = await newPerson(parts.browser, LAPTOP);
    await buyer.page.goto(url("/pricing"));
    await buyer.page.getByRole("button", { name: "Buy now: Acme Editor Solo" }).click();
    await buyer.page.waitForURL(new RegExp(`^${fake.url}/pay/cs_`));
    const sessionId = new URL(buyer.page.url()).pathname.split("/").pop()!;
    expect(fake.createdSessions.at(-1)).toMatchObject({ mode: "payment", allow_promotion_codes: "true" });
    await buyer.page.getByLabel("Email").fill("reader@example.com");
    await buyer.page.getByRole("button", { name: "Pay" }).click();
    await buyer.page.waitForURL(url(`/checkout/success?session_id=${sessionId}`));
    await buyer.page.getByText("Still processing your payment").waitFor();
    await screenshot(buyer.page, "shop-success-processing-laptop");

    const { body, headers } = signedWebhook(stripeEvent("checkout.session.completed", fake.sessions.get(sessionId)!));
    expect((await parts.app.post("/api/stripe/webhook", body, headers)).status).toBe(200);
    await buyer.page.getByRole("heading", { name: "Thank you! Your license is ready" }).waitFor({ timeout: 20_000 });
    const shownKey = (await buyer.page.getByTestId("license-key").textContent())!.trim();
    const [row] = await parts.app.database.db.select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, sessionId));
    expect(row).toBeDefined();
    expect(shownKey).toMatch(/-[0-9A-Z]{5}$/);
    expect(shownKey.endsWith(row!.keyHint)).toBe(true);
    await buyer.page.getByText("also on its way by email to reader@example.com").waitFor();
    await screenshot(buyer.page, "shop-success-key-laptop");
    // The fake Stripe page has no icon; everything of ours ran cleanly.
    expect(buyer.problems.filter((p) => !p.endsWith(" /favicon.ico"))).toEqual([]);

    // The same browser on a phone (its cookie) sees the key too; another browser sees none.
    const storage = await buyer.context.storageState();
    await bothSizes(`/checkout/success?session_id=${sessionId}`, "success-key", (page) => page.getByTestId("license-key").waitFor(), storage);
    const stranger = await newPerson(parts.browser, PHONE);
    await stranger.page.goto(url(`/checkout/success?session_id=${sessionId}`));
    await stranger.page.getByRole("heading", { name: "This purchase is complete" }).waitFor();
    expect(await stranger.page.getByTestId("license-key").count()).toBe(0);
    expect(await stranger.page.content()).not.toContain(shownKey);
    await screenshot(stranger.page, "shop-success-stranger-phone");
    await stranger.context.close();

    // The buyer's portal: billing lists the payment and offers Stripe's customer portal.
    await signInAsAdmin(buyer.page, parts.app.url, parts.catcher, "reader@example.com", "/portal");
    await buyer.page.getByRole("heading", { name: "Billing" }).waitFor();
    await buyer.page.getByText("$49.00").waitFor();
    await bothSizes("/portal", "portal-billing", (page) => page.getByRole("button", { name: "Manage billing" }).waitFor(), await buyer.context.storageState());
    await buyer.page.getByRole("button", { name: "Manage billing" }).click();
    await buyer.page.waitForURL(new RegExp(`^${fake.url}/billing/cus_`));
    await buyer.context.close();
  });
});

describe("free trials", () => {
  it("a trial started from the pricing page, and refused the second time", async () => {
    const person = await newPerson(parts.browser, PHONE);
    const email = "trying@example.com";
    const ask = async () => {
      await person.page.goto(url("/pricing"));
      await person.page.getByRole("button", { name: "Start 14-day free trial: Acme Editor Solo" }).click();
      const field = person.page.getByLabel("Email address for your trial");
      await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true);
      await field.fill(email);
      await person.page.getByRole("button", { name: "Email me the trial link" }).click();
      await person.page.getByText("If this address can start a trial").waitFor();
    };
    const before = parts.catcher.messages.length;
    await ask();
    await screenshot(person.page, "shop-trial-asked-phone");
    const message = await eventually(async () => parts.catcher.messages.slice(before).find((m) => m.to.includes(email)), 20_000, "the trial link");
    const link = /(http:\/\/\S+\/trial\/confirm\?token=[A-Za-z0-9_-]+)/.exec(message.text)![1]!;
    await person.page.goto(link);
    await person.page.getByRole("heading", { name: "Start your free trial" }).waitFor();
    await screenshot(person.page, "shop-trial-confirm-phone");
    await person.page.getByRole("button", { name: "Start my trial" }).click();
    await person.page.getByRole("heading", { name: "Your free trial has started" }).waitFor();
    const key = (await person.page.getByTestId("license-key").textContent())!.trim();
    await person.page.getByText("Trial ends", { exact: true }).waitFor();
    await screenshot(person.page, "shop-trial-started-phone");
    await bothSizes(new URL(link).pathname + new URL(link).search, "trial-confirm", (page) => page.getByRole("button", { name: "Start my trial" }).waitFor());
    // Its key email arrives.
    await eventually(async () => parts.catcher.messages.some((m) => m.to.includes(email) && m.text.includes(key)), 20_000, "the key email");

    // The second time: the same words on the page, and nothing is sent.
    const afterFirst = parts.catcher.messages.length;
    await ask();
    await new Promise((r) => setTimeout(r, 1500));
    expect(parts.catcher.messages.slice(afterFirst).filter((m) => m.to.includes(email))).toHaveLength(0);
    // A refused domain is told in words.
    await person.page.goto(url("/pricing"));
    await person.page.getByRole("button", { name: "Start 14-day free trial: Acme Editor Solo" }).click();
    await person.page.getByLabel("Email address for your trial").fill("someone@mailinator.com");
    await person.page.getByRole("button", { name: "Email me the trial link" }).click();
    await person.page.getByRole("alert").filter({ hasText: "permanent email address" }).waitFor();
    await screenshot(person.page, "shop-trial-refused-phone");
    expect(trialPlan).toBeTruthy();
    await person.context.close();
  });
});

describe("the admin's shop settings", () => {
  it("name, logo and accent change the pricing page", async () => {
    const admin = await newPerson(parts.browser, LAPTOP);
    await signInAsAdmin(admin.page, parts.app.url, parts.catcher, ADMIN);
    await admin.page.goto(url("/admin/settings"));
    await admin.page.getByLabel("Shop name").fill("Northwind Tools");
    await admin.page.getByLabel("Logo text").fill("NW");
    await admin.page.getByLabel("Accent colour", { exact: true }).fill("#0f766e");
    await admin.page.getByRole("button", { name: "Save shop settings" }).click();
    await admin.page.getByText("Saved. The pricing page shows it now.").waitFor();
    await bothSizes("/admin/settings", "admin-settings", (page) => page.getByLabel("Shop name").waitFor(), await admin.context.storageState());
    await admin.page.goto(url("/pricing"));
    await admin.page.getByText("Northwind Tools").first().waitFor();
    const logo = admin.page.getByText("NW", { exact: true });
    expect(await logo.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(15, 118, 110)");
    expect(await logo.evaluate((el) => getComputedStyle(el).color)).toBe("rgb(255, 255, 255)");
    await screenshot(admin.page, "shop-pricing-after-settings-laptop");
    await admin.context.close();
  });
});
