import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "./helpers/app";
import { newPerson, signInAsAdmin, startBrowserApp, stopBrowserApp } from "./helpers/browser";
import { makeCustomer, makeLicense, makePlan } from "./helpers/factories";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// The activation-file buttons in real Chromium against the built app: the admin's on the license page and the
// customer's in the portal each download a file the SDK format names, and the device lists then say
// air-gapped.

const ADMIN = "operator@example.com";

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
beforeAll(async () => {
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN }));
});
afterAll(() => stopBrowserApp({ app, catcher, browser }));

async function downloadFile(page: Page, fingerprint: string) {
  await page.getByLabel("Machine fingerprint").fill(fingerprint);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download activation file" }).click()]);
  expect(download.suggestedFilename()).toMatch(/\.keystead$/);
  return JSON.parse(await readFile((await download.path())!, "utf8"));
}

describe("activation files in the browser", () => {
  it("the admin downloads one from the license page; the device list says air-gapped", async () => {
    const plan = await makePlan(app.database.db, { seats: 2, airGappedTtlDays: 365 });
    const { license } = await makeLicense(app.database.db, { planId: plan.id });
    const { page, problems, context } = await newPerson(browser);
    try {
      await signInAsAdmin(page, app.url, catcher, ADMIN);
      await page.goto(`${app.url}/admin/licenses/${license.id}`);
      await page.getByRole("button", { name: "Activation file" }).click();
      const file = await downloadFile(page, "admin-made-pc");
      expect(file).toMatchObject({ format: "keystead-activation-file-v1", license: license.id, fingerprint: "admin-made-pc" });
      await page.getByRole("table", { name: "Devices" }).getByText("Air-gapped (activation file)").waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a customer downloads one in the portal for their own license", async () => {
    const email = `offline-${Date.now()}@example.com`;
    const customer = await makeCustomer(app.database.db, email);
    const plan = await makePlan(app.database.db, { seats: 1, airGappedTtlDays: 30 });
    const { license } = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id });
    const { page, problems, context } = await newPerson(browser);
    try {
      await signInAsAdmin(page, app.url, catcher, email, "/portal");
      await page.getByRole("button", { name: "Activate a machine that is never online" }).click();
      const file = await downloadFile(page, "cabin-pc");
      expect(file).toMatchObject({ format: "keystead-activation-file-v1", license: license.id, fingerprint: "cabin-pc" });
      await page.getByRole("list", { name: "Devices" }).getByText(/offline \(activation file\)/).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
