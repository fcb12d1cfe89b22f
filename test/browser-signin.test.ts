import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import type { TestApp } from "./helpers/app";
import {
  confirmSignIn,
  LAPTOP,
  newPerson,
  overflowsHorizontally,
  PHONE,
  screenshot,
  signInLinkIn,
  startBrowserApp,
  stopBrowserApp,
} from "./helpers/browser";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// Real Chromium against the real built app: people sign in through the link they are emailed (caught by the
// SMTP catcher), customers land in their portal, admins in the admin app. Screenshots of each page, on a
// phone and a laptop, are kept in test-artifacts/screenshots/.

const ADMIN = "owner@example.com";

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
beforeAll(async () => {
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN }));
});
afterAll(() => stopBrowserApp({ app, catcher, browser }));

/** Waits for the next email to `to` and returns the sign-in link in it. */
async function linkFor(to: string, after: number): Promise<string> {
  for (let n = after + 1; ; n++) {
    const message = await catcher.waitFor(n);
    if (!message.to.includes(to)) continue;
    const link = signInLinkIn(message.text);
    if (!link) throw new Error(`no sign-in link in:\n${message.text}`);
    return link;
  }
}

async function signInThroughEmail(page: import("playwright-core").Page, email: string) {
  const before = catcher.messages.length;
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  return { link: await linkFor(email.toLowerCase(), before) };
}

describe("signing in through the emailed link", () => {
  it("a customer on a phone asks for a link, follows it, lands in the portal and manages their license", async () => {
    const db = app.database.db;
    const product = await makeProduct(db, { name: "Acme Studio" });
    const plan = await makePlan(db, { productId: product.id, name: "Pro", seats: 3 });
    const customer = await makeCustomer(db, "dana@example.com");
    const { key } = await makeLicense(db, { planId: plan.id, customerId: customer.id, expiresAt: new Date("2031-05-01T00:00:00Z") });
    const activation = await app.post("/api/v1/licenses/activate", { key, fingerprint: "mbp-2024", name: "Dana's MacBook", platform: "macOS" });
    expect(activation.status).toBe(201);

    const { page, context, problems } = await newPerson(browser, PHONE);
    // Asking for the portal while signed out leads to sign-in first.
    await page.goto(`${app.url}/portal`);
    await page.waitForURL(/\/signin\?callbackUrl=%2Fportal/);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await screenshot(page, "signin-phone");
    expect(await overflowsHorizontally(page)).toBe(false);

    // A wrong address is refused in words, before anything is sent.
    await page.getByLabel("Email address").fill("dana");
    await page.getByRole("button", { name: "Email me a sign-in link" }).click();
    await page.getByText("Enter your email address, like name@example.com.").waitFor();

    const { link } = await signInThroughEmail(page, "Dana@Example.com");
    expect(await page.textContent("main")).toContain("Dana@Example.com");
    await screenshot(page, "signin-check-email-phone");

    // The emailed link opens a confirm page (mail scanners open links too); the button spends the token.
    await page.goto(link);
    await page.getByText("Continue as dana@example.com").waitFor();
    await screenshot(page, "signin-confirm-phone");
    expect(await overflowsHorizontally(page)).toBe(false);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.url}/portal`);
    await page.getByRole("heading", { name: "Acme Studio · Pro" }).waitFor();
    const card = page.getByRole("article", { name: "Acme Studio Pro" });
    expect(await card.textContent()).toContain("1 of 3");
    expect(await card.getByTestId("license-key").textContent()).toBe(`•••••-•••••-•••••-•••••-${key.slice(-5)}`);
    await screenshot(page, "portal-phone");
    expect(await overflowsHorizontally(page)).toBe(false);

    await card.getByRole("button", { name: "Show key" }).click();
    await card.getByTestId("license-key").getByText(key).waitFor();
    await screenshot(page, "portal-key-shown-phone");

    await card.getByRole("button", { name: "Deactivate" }).click();
    const dialog = page.getByRole("dialog", { name: `Deactivate "Dana's MacBook"?` });
    await dialog.waitFor();
    await screenshot(page, "portal-deactivate-confirm-phone");
    await dialog.getByRole("button", { name: "Deactivate" }).click();
    await card.getByText("Not activated on any device yet.").waitFor();
    expect(await card.textContent()).toContain("0 of 3");
    const validate = await app.post("/api/v1/licenses/validate", { key, fingerprint: "mbp-2024" });
    expect(validate.body.code).toBe("NOT_ACTIVATED");

    // The admin app is not for customers.
    await page.goto(`${app.url}/admin`);
    await page.getByRole("heading", { name: "Not an admin" }).waitFor();
    expect(await page.getByRole("navigation", { name: "Admin" }).count()).toBe(0);
    await screenshot(page, "admin-not-an-admin-phone");

    expect(problems).toEqual([]);
    await context.close();
  });

  it("someone who bought nothing sees an empty portal, in words", async () => {
    const { page, context, problems } = await newPerson(browser, LAPTOP);
    await page.goto(`${app.url}/signin`);
    const { link } = await signInThroughEmail(page, "newcomer@example.com");
    await confirmSignIn(page, link);
    await page.waitForURL(`${app.url}/portal`);
    await page.getByText("No licenses yet").waitFor();
    expect(await page.textContent("main")).toContain("We found no licenses for newcomer@example.com");
    await screenshot(page, "portal-empty-laptop");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/signin/);
    await page.goto(`${app.url}/portal`);
    await page.waitForURL(/\/signin\?callbackUrl=%2Fportal/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("an admin lands in the admin app and sees the dashboard and the setup checklist", async () => {
    const { page, context, problems } = await newPerson(browser, LAPTOP);
    await page.goto(`${app.url}/signin`);
    const { link } = await signInThroughEmail(page, ADMIN);
    await confirmSignIn(page, link);
    await page.waitForURL(`${app.url}/admin`);
    await page.getByText("Active licenses").waitFor();
    await page.getByRole("heading", { name: "Licenses issued" }).waitFor();
    // The first-run banner: this server has no email provider... it has SMTP, but no webhook has arrived.
    await page.getByText("Setup is not finished").waitFor();
    expect(await page.textContent("main")).toContain("No Stripe webhook has ever reached this server.");
    const nav = page.getByRole("navigation", { name: "Admin" });
    for (const area of ["Licenses", "Customers", "Products & plans", "Stripe events", "Emails", "Settings", "Audit log", "Export"]) {
      expect(await nav.getByRole("link", { name: area, exact: true }).count(), area).toBe(1);
    }
    // Let the charts draw before the picture.
    await page.locator(".recharts-bar-rectangle").first().waitFor();
    await screenshot(page, "admin-dashboard-laptop");

    await page.getByRole("link", { name: "See how to fix each →" }).click();
    await page.waitForURL(`${app.url}/admin/setup`);
    await page.getByRole("heading", { name: "Stripe webhook received" }).waitFor();
    await screenshot(page, "admin-setup-laptop");
    expect(problems).toEqual([]);
    await context.close();

    // The same admin on a phone.
    const phone = await newPerson(browser, PHONE);
    await phone.page.goto(`${app.url}/signin?callbackUrl=%2Fadmin`);
    const second = await signInThroughEmail(phone.page, ADMIN);
    await confirmSignIn(phone.page, second.link);
    await phone.page.waitForURL(`${app.url}/admin`);
    await phone.page.getByText("Active licenses").waitFor();
    await phone.page.locator(".recharts-bar-rectangle").first().waitFor();
    await screenshot(phone.page, "admin-dashboard-phone");
    expect(await overflowsHorizontally(phone.page)).toBe(false);
    expect(phone.problems).toEqual([]);
    await phone.context.close();
  });

  it("tells a person in words when too many links were asked for from their address", async () => {
    const { page, context, problems } = await newPerson(browser, LAPTOP);
    const tooMany = page.getByText("Too many sign-in links were asked for. Wait a few minutes, then try again.");
    // Every test in this file asks from 127.0.0.1, so the per-client limit (10 per 15 minutes) is near: ask for
    // new addresses until it answers, as someone spraying addresses would.
    let asked = 0;
    for (; asked < 11 && !(await tooMany.isVisible()); asked++) {
      await page.goto(`${app.url}/signin`);
      await page.getByLabel("Email address").fill(`visitor-${asked}@example.com`);
      await page.getByRole("button", { name: "Email me a sign-in link" }).click();
      await page.getByRole("heading", { name: "Check your email" }).or(tooMany).waitFor();
    }
    expect(await tooMany.isVisible()).toBe(true);
    expect(asked).toBeLessThan(11);
    // Still on the form, ready for when the wait is over.
    expect(page.url()).toBe(`${app.url}/signin`);
    await screenshot(page, "signin-too-many-laptop");
    expect(problems).toEqual(["429 POST /api/auth/signin/email"]);
    await context.close();
  });
});
