import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "./helpers/app";
import { LAPTOP, PHONE, newPerson, overflowsHorizontally, screenshot, signInAsAdmin, startBrowserApp, stopBrowserApp } from "./helpers/browser";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// "Reset all devices" in real Chromium against the built app: the customer resets outside the cooldown, sees
// when the next reset is allowed inside it and asks for a manual reset; the operator is emailed and approves on
// the dashboard in one click; the customer is emailed. Plus the admin's Website errors page. Laptop and phone.

const ADMIN = "operator@example.com";
const INTERNAL_KEY = "browser-internal-key-0123456789";

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
beforeAll(async () => {
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN, INTERNAL_API_KEY: INTERNAL_KEY }));
});
afterAll(() => stopBrowserApp({ app, catcher, browser }));

async function customerWithDevices(tag: string, devices: string[]) {
  const email = `${tag}-${Date.now()}@example.com`;
  const customer = await makeCustomer(app.database.db, email);
  const product = await makeProduct(app.database.db, { name: "Acme Studio" });
  const plan = await makePlan(app.database.db, { productId: product.id, name: "Pro", seats: 3, resetCooldownDays: 30 });
  const { license, key } = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id });
  for (const fingerprint of devices) {
    const res = await app.post("/api/v1/licenses/activate", { key, fingerprint, name: `${tag} ${fingerprint}` });
    expect(res.status).toBe(201);
  }
  return { email, license };
}

async function resetInPortal(page: Page, device: string) {
  const card = page.getByRole("region", { name: "Reset all devices" });
  await card.getByText("You can do this once every 30 days").waitFor();
  await screenshot(page, `device-reset-outside-cooldown-${device}`);
  await card.getByRole("button", { name: "Reset all devices" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText("Every device (2 now) stops working").waitFor();
  await screenshot(page, `device-reset-confirm-${device}`);
  await dialog.getByRole("button", { name: "Reset all devices" }).click();
  await card.getByText(/2 devices deactivated\. The next reset is allowed on/).waitFor();
  await page.getByText("Not activated on any device yet.").waitFor();
  await card.getByText(/the next one is allowed on/).waitFor();
  await screenshot(page, `device-reset-inside-cooldown-${device}`);
  expect(await overflowsHorizontally(page)).toBe(false);
  return card;
}

describe("reset all devices in the portal", () => {
  it("laptop: reset, then inside the cooldown ask for a manual reset; the operator approves on the dashboard", async () => {
    const { email, license } = await customerWithDevices("laptop", ["desk", "travel"]);
    const customer = await newPerson(browser, LAPTOP);
    try {
      await signInAsAdmin(customer.page, app.url, catcher, email, "/portal");
      const card = await resetInPortal(customer.page, "laptop");
      expect(await card.getByRole("button", { name: "Reset all devices" }).count()).toBe(0);

      await card.getByRole("button", { name: "Ask for a manual reset" }).click();
      await card.getByLabel("Why do you need a reset now? (optional)").fill("My desk PC died and I replaced it.");
      await screenshot(customer.page, "device-reset-request-form-laptop");
      const before = catcher.messages.length;
      await card.getByRole("button", { name: "Send request" }).click();
      await card.getByText(/You asked for a manual reset on/).waitFor();
      await screenshot(customer.page, "device-reset-requested-laptop");
      expect(customer.problems).toEqual([]);

      const toOperator = await catcher.waitFor(before + 1, 30_000);
      expect(toOperator.to).toEqual([ADMIN]);
      expect(toOperator.subject).toBe(`Manual device reset requested: Acme Studio (${email})`);
      expect(toOperator.text).toContain("My desk PC died");
      expect(toOperator.text).toContain(`/admin/licenses/${license.id}`);
    } finally {
      await customer.context.close();
    }

    // The operator approves on the dashboard.
    const admin = await newPerson(browser, LAPTOP);
    try {
      await signInAsAdmin(admin.page, app.url, catcher, ADMIN);
      const panel = admin.page.getByRole("region", { name: /Device reset requests/ });
      await panel.getByText("My desk PC died and I replaced it.").waitFor();
      await screenshot(admin.page, "device-reset-dashboard-request-laptop");
      const before = catcher.messages.length;
      await panel.getByRole("button", { name: `Approve the reset for ${email}` }).click();
      await admin.page.getByText(/Reset done: 0 devices deactivated; the customer is being emailed\./).waitFor();
      await screenshot(admin.page, "device-reset-dashboard-approved-laptop");
      const toCustomer = await catcher.waitFor(before + 1, 30_000);
      expect(toCustomer.to.map((t) => t.toLowerCase())).toEqual([email.toLowerCase()]);
      expect(toCustomer.subject).toBe("Your Acme Studio devices were reset");

      // The license page shows no open request any more, and the reset in its timeline.
      await admin.page.goto(`${app.url}/admin/licenses/${license.id}`);
      await admin.page.getByRole("heading", { name: /License/ }).first().waitFor();
      expect(await admin.page.getByRole("region", { name: /Device reset requests/ }).count()).toBe(0);
      expect(admin.problems).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });

  it("phone: reset outside the cooldown, then the next allowed date and the manual-reset button", async () => {
    const { email, license } = await customerWithDevices("phone", ["pixel", "tablet"]);
    const customer = await newPerson(browser, PHONE);
    try {
      await signInAsAdmin(customer.page, app.url, catcher, email, "/portal");
      const card = await resetInPortal(customer.page, "phone");
      await card.getByRole("button", { name: "Ask for a manual reset" }).click();
      await card.getByRole("button", { name: "Send request" }).click();
      await card.getByText(/You asked for a manual reset on/).waitFor();
      await screenshot(customer.page, "device-reset-requested-phone");
      expect(customer.problems).toEqual([]);
    } finally {
      await customer.context.close();
    }

    // The operator sees it on the license page, on a phone, and dismisses it.
    const admin = await newPerson(browser, PHONE);
    try {
      await signInAsAdmin(admin.page, app.url, catcher, ADMIN);
      await admin.page.goto(`${app.url}/admin/licenses/${license.id}`);
      const panel = admin.page.getByRole("region", { name: "Device reset requests (1)" });
      await panel.getByText(email).waitFor();
      await screenshot(admin.page, "device-reset-license-page-phone");
      expect(await overflowsHorizontally(admin.page)).toBe(false);
      await panel.getByRole("button", { name: `Dismiss the request of ${email}` }).click();
      await admin.page.getByRole("region", { name: /Device reset requests/ }).waitFor({ state: "detached" });
      expect(admin.problems).toEqual([]);
    } finally {
      await admin.context.close();
    }
  });
});

describe("Website errors page", () => {
  it("shows the empty state, then reported errors newest first, on laptop and phone", async () => {
    const admin = await newPerson(browser, LAPTOP);
    try {
      await signInAsAdmin(admin.page, app.url, catcher, ADMIN);
      await admin.page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Website errors" }).click();
      await admin.page.getByText("No website errors").waitFor();
      await screenshot(admin.page, "website-errors-empty-laptop");

      const report = (summary: string) =>
        app.post(
          "/api/v1/report-website-error",
          { product_id: "Website", user_identifier: "0b6f… (ada@example.com)", error_summary: summary, error_details: `Error: ${summary}\n    at load (src/routes/+page.ts:12:7)` },
          { "X-Internal-API-Key": INTERNAL_KEY },
        );
      expect((await report("Cannot read properties of undefined (reading 'price')")).status).toBe(202);
      expect((await report("Failed to fetch entitlements")).status).toBe(202);
      await admin.page.reload();
      const list = admin.page.getByRole("list", { name: "Website errors" });
      await list.getByText("Failed to fetch entitlements", { exact: true }).waitFor();
      const items = await list.getByRole("listitem").allInnerTexts();
      expect(items[0]).toContain("Failed to fetch entitlements");
      expect(items[1]).toContain("reading 'price'");
      await list.getByText("Details").first().click();
      await screenshot(admin.page, "website-errors-list-laptop");
      expect(admin.problems).toEqual([]);
    } finally {
      await admin.context.close();
    }
    const phone = await newPerson(browser, PHONE);
    try {
      await signInAsAdmin(phone.page, app.url, catcher, ADMIN, "/admin/website-errors");
      await phone.page.getByRole("list", { name: "Website errors" }).waitFor();
      await screenshot(phone.page, "website-errors-list-phone");
      expect(await overflowsHorizontally(phone.page)).toBe(false);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
