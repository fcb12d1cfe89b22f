import crypto from "node:crypto";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { LAPTOP, newPerson, overflowsHorizontally, PHONE, screenshot, signInAsAdmin, startBrowserApp, stopBrowserApp } from "./helpers/browser";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// The admin import page in real Chromium: upload a Lemon Squeezy file, a dry run that lists every refused row
// and why, the confirm step mapping each of their products to a plan, then the import as a worker job whose
// progress bar reaches done; the imported key then validates. On a phone the same page fits the screen.

const ADMIN = "importer@example.com";
const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const FIXTURES = path.join(process.cwd(), "test/fixtures/import");
const s = crypto.randomBytes(3).toString("hex");

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
beforeAll(async () => {
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN }));
  expect((await app.post("/api/v1/admin/products", { slug: `pixel-${s}`, name: "Pixel" }, AUTH)).status).toBe(201);
  for (const [slug, name, seats] of [[`personal-${s}`, "Personal", 2], [`team-${s}`, "Team", 10]] as const) {
    const plan = await app.post("/api/v1/admin/plans", { product: `pixel-${s}`, slug, name, seats, durationDays: null, entitlements: [], stripePriceIds: [] }, AUTH);
    expect(plan.status).toBe(201);
  }
});
afterAll(() => stopBrowserApp({ app, catcher, browser }));

describe("admin import page", () => {
  it("uploads, dry-runs with refused rows, confirms the mapping and imports with a progress bar (laptop)", async () => {
    const { page, problems, context } = await newPerson(browser, LAPTOP);
    await signInAsAdmin(page, app.url, catcher, ADMIN);
    await page.getByRole("link", { name: "Import" }).click();
    await page.getByRole("heading", { name: "Import" }).waitFor();
    await page.getByLabel("Where it comes from").selectOption("lemonsqueezy");
    await page.getByLabel("File", { exact: true }).setInputFiles(path.join(FIXTURES, "lemonsqueezy-license-keys.json"));
    await page.getByRole("button", { name: "Dry run", exact: true }).click();

    const refused = page.getByRole("table", { name: "Refused rows" });
    await refused.waitFor();
    await expect.poll(() => refused.locator("tbody tr").count()).toBe(4);
    expect(await refused.textContent()).toContain("no customer email");
    expect(await refused.textContent()).toContain("no plan for Pixel Studio (product:11)");
    await screenshot(page, "import-laptop-1-dry-run");

    await page.getByLabel("Plan for Pixel Studio", { exact: true }).selectOption(`team-${s}`);
    await page.getByLabel("Plan for Pixel Studio Team").selectOption(`personal-${s}`);
    await page.getByRole("button", { name: "Dry run again with these plans" }).click();
    await expect.poll(() => page.locator('[data-count="licenses"]').first().textContent()).toBe("3");
    await expect.poll(() => refused.locator("tbody tr").count()).toBe(1);
    await screenshot(page, "import-laptop-2-mapped");

    await page.getByRole("button", { name: /^Import 3 license/ }).click();
    await page.getByText("The import is done.").waitFor({ timeout: 30_000 });
    expect(await page.locator("#import-progress").getAttribute("value")).toBe("100");
    expect(await page.getByText(/Imported 4 of 4 rows \(100%\)/).count()).toBe(1);
    await screenshot(page, "import-laptop-3-done");

    const v = await app.post("/api/v1/licenses/validate", { key: "80e15db5-c796-436b-850c-8f9c98a48abe" });
    expect(v.body).toMatchObject({ valid: true, license: { plan: `team-${s}`, activations: 2 } });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("fits a phone, and says why a file cannot be read", async () => {
    const { page, context } = await newPerson(browser, PHONE);
    await signInAsAdmin(page, app.url, catcher, ADMIN, "/admin/import");
    await page.getByRole("heading", { name: "Import" }).waitFor();
    await page.getByLabel("Where it comes from").selectOption("polar");
    await page.getByLabel("File", { exact: true }).setInputFiles(path.join(FIXTURES, "polar-license-keys.json"));
    await page.getByRole("button", { name: "Dry run", exact: true }).click();
    await page.getByRole("table", { name: "Products and their plans" }).waitFor();
    expect(await page.getByRole("table", { name: "Refused rows" }).textContent()).toContain("not an email address");
    expect(await overflowsHorizontally(page)).toBe(false);
    await screenshot(page, "import-phone-1-dry-run");

    await page.getByLabel("Where it comes from").selectOption("keygen");
    await page.getByLabel("File", { exact: true }).setInputFiles(path.join(FIXTURES, "gumroad-sales.csv"));
    await page.getByRole("button", { name: "Dry run", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "not a Keygen licenses document" }).waitFor();
    await screenshot(page, "import-phone-2-unreadable");
    await context.close();
  });
});
