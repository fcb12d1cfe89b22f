import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "./helpers/app";
import { LAPTOP, PHONE, newPerson, overflowsHorizontally, screenshot, signInAsAdmin, startBrowserApp, stopBrowserApp } from "./helpers/browser";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// The portal's emailed confirmations in real Chromium: a customer replaces a key (through the link in the email,
// then sees the new key in the portal), and adds a second address (whose license then shows), at laptop and
// phone size, with screenshots of every step kept in test-artifacts/screenshots.

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
beforeAll(async () => {
  ({ app, catcher, browser } = await startBrowserApp({}));
});
afterAll(() => stopBrowserApp({ app, catcher, browser }));

const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;
const confirmLinkIn = (text: string) => /(http:\/\/\S+\/confirm\?token=[A-Za-z0-9_-]{43})/.exec(text)?.[1];

async function mailTo(email: string, after: number) {
  for (let n = after + 1; ; n++) {
    const message = await catcher.waitFor(n);
    if (message.to.join(",").toLowerCase().includes(email.toLowerCase())) return message;
  }
}

describe.each([
  ["laptop", LAPTOP],
  ["phone", PHONE],
] as const)("on a %s", (size, device) => {
  it("a customer replaces a compromised key through the emailed link", async () => {
    const email = unique(`rotate-${size}`);
    const customer = await makeCustomer(app.database.db, email);
    const product = await makeProduct(app.database.db, { name: "Acme Studio" });
    const plan = await makePlan(app.database.db, { productId: product.id, name: "Pro", seats: 2 });
    const { key } = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id });
    await app.post("/api/v1/licenses/activate", { key, fingerprint: "studio-mac", name: "Studio Mac" });

    const { page, problems, context } = await newPerson(browser, device);
    try {
      await signInAsAdmin(page, app.url, catcher, email, "/portal");
      await page.getByText(/first seen/).waitFor();
      const before = catcher.messages.length;
      await page.getByRole("button", { name: "Replace this key" }).click();
      await page.getByRole("dialog").getByText("Do this if someone else may have your key").waitFor();
      await screenshot(page, `portal-rotate-dialog-${size}`);
      await page.getByRole("button", { name: "Email me the link" }).click();
      await page.getByText(`We sent a confirmation link to ${email}`).waitFor();
      await screenshot(page, `portal-rotate-requested-${size}`);
      expect(await overflowsHorizontally(page)).toBe(false);

      const link = confirmLinkIn((await mailTo(email, before)).text);
      expect(link).toBeDefined();
      await page.goto(link!);
      await page.getByRole("heading", { name: "Replace your license key" }).waitFor();
      await screenshot(page, `confirm-rotate-${size}`);
      expect(await overflowsHorizontally(page)).toBe(false);
      await page.getByRole("button", { name: "Replace my key" }).click();
      await page.getByRole("heading", { name: "Your key has been replaced" }).waitFor();
      await screenshot(page, `confirm-rotate-done-${size}`);

      expect((await app.post("/api/v1/licenses/validate", { key })).body.code).toBe("NOT_FOUND");
      await page.getByRole("link", { name: "Go to your licenses" }).click();
      await page.getByRole("button", { name: "Show key" }).click();
      await page.getByRole("button", { name: "Copy" }).waitFor();
      const shown = (await page.getByTestId("license-key").textContent())!.trim();
      expect(shown).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
      expect(shown).not.toBe(key);
      expect((await app.post("/api/v1/licenses/validate", { key: shown, fingerprint: "studio-mac" })).body.code).toBe("VALID");
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a customer adds the address they bought with and then sees its license", async () => {
    const personal = unique(`me-${size}`);
    const work = unique(`work-${size}`);
    const buyer = await makeCustomer(app.database.db, work);
    const product = await makeProduct(app.database.db, { name: "Render Farm" });
    const plan = await makePlan(app.database.db, { productId: product.id, name: "Team", seats: 5 });
    await makeLicense(app.database.db, { planId: plan.id, customerId: buyer.id });

    const { page, problems, context } = await newPerson(browser, device);
    try {
      await signInAsAdmin(page, app.url, catcher, personal, "/portal");
      await page.getByText("No licenses yet").waitFor();
      await page.getByRole("button", { name: "Add another email" }).click();
      await page.getByLabel("Another email address you bought with").fill(work);
      await screenshot(page, `portal-add-email-${size}`);
      const before = catcher.messages.length;
      await page.getByRole("button", { name: "Send the link" }).click();
      await page.getByText(`We sent a link to ${work}`).waitFor();

      const link = confirmLinkIn((await mailTo(work, before)).text);
      await page.goto(link!);
      await page.getByRole("heading", { name: "Confirm this email address" }).waitFor();
      await screenshot(page, `confirm-add-email-${size}`);
      await page.getByRole("button", { name: "Confirm this address" }).click();
      await page.getByRole("heading", { name: "Address added" }).waitFor();
      await page.getByRole("link", { name: "Go to your licenses" }).click();
      await page.getByRole("heading", { name: "Render Farm · Team" }).waitFor();
      await page.getByRole("list", { name: "Email addresses" }).getByText(work).waitFor();
      await screenshot(page, `portal-two-addresses-${size}`);
      expect(await overflowsHorizontally(page)).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
