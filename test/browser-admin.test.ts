import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestApp } from "./helpers/app";
import {
  LAPTOP,
  newPerson,
  overflowsHorizontally,
  PHONE,
  screenshot,
  signInAsAdmin,
  startBrowserApp,
  stopBrowserApp,
} from "./helpers/browser";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// The admin app in real Chromium against the real built app: an admin signs in through the emailed link,
// creates a product and a plan, issues a license, finds it by email, revokes it, and the public validate
// route answers REVOKED. Every admin area is visited on a laptop and a phone; screenshots of each page are
// kept in test-artifacts/screenshots/.

const ADMIN = "operator@example.com";
const LONG_PRICE = "price_1QzJ8xLkQ2vR7sT9uW3yA5bC";
const BUYER = "Grace.Hopper@example.com";

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
beforeAll(async () => {
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN }));
});
afterAll(() => stopBrowserApp({ app, catcher, browser }));

/**
 * Wider than a phone's screen. Measured against the device width, not innerWidth: a mobile browser widens its
 * layout viewport to fit content that overflows, so innerWidth grows with the overflow it should reveal.
 */
const widerThanPhone = async (page: Page) =>
  (await overflowsHorizontally(page)) || (await page.evaluate(() => document.documentElement.scrollWidth)) > PHONE.viewport.width;

/** Identifiers (slugs, price ids, fingerprints: shown whole, titled) that the layout broke over two lines. */
const brokenIdentifiers = (page: Page) =>
  page.locator("td [title]").evaluateAll((els) =>
    els.filter((el) => el.getBoundingClientRect().height > parseFloat(getComputedStyle(el).fontSize) * 1.8).map((el) => el.textContent),
  );

/**
 * Rows of a table shown as cards on a phone that are cut off: wider than the screen, or with a cell whose
 * content spills out of its card.
 */
const cutOffRows = (page: Page, table: string) =>
  page.getByRole("table", { name: table }).evaluate((t) =>
    [...t.querySelectorAll("tbody tr")]
      .filter((tr) => {
        const row = tr.getBoundingClientRect();
        if (row.left < 0 || row.right > document.documentElement.clientWidth) return true;
        return [...tr.querySelectorAll("td")].some((td) => td.scrollWidth > td.clientWidth + 1);
      })
      .map((tr) => tr.textContent),
  );

const signIn = (page: Page) => signInAsAdmin(page, app.url, catcher, ADMIN);

describe("the admin app in a browser", () => {
  let page: Page;
  let problems: string[];
  let close: () => Promise<void>;
  let key = "";
  let licensePath = "";

  beforeAll(async () => {
    const person = await newPerson(browser, LAPTOP);
    page = person.page;
    problems = person.problems;
    close = () => person.context.close();
    await signIn(page);
  });
  afterAll(async () => {
    await close?.();
  });

  it("creates a product and a plan bound to a Stripe price", async () => {
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Products & plans" }).click();
    await page.waitForURL(`${app.url}/admin/products`);
    await page.getByText("No products yet.").waitFor();
    await screenshot(page, "admin-products-empty-laptop");

    await page.getByRole("button", { name: "New product" }).click();
    await page.getByLabel("Name").fill("Acme Studio");
    // The slug is suggested from the name.
    expect(await page.getByLabel("Slug").inputValue()).toBe("acme-studio");
    await page.getByRole("button", { name: "Create product" }).click();
    const card = page.getByRole("region", { name: "Acme Studio" });
    await card.getByText("No plan yet").waitFor();

    await card.getByRole("button", { name: "New plan" }).click();
    const form = card.getByRole("form", { name: "New plan for acme-studio" });
    await form.getByLabel("Name").fill("Pro");
    expect(await form.getByLabel("Slug").inputValue()).toBe("acme-studio-pro");
    await form.getByLabel("Seats").fill("3");
    await form.getByLabel("Duration in days").fill("365");
    await form.getByLabel("Grace days").fill("7");
    await form.getByLabel("Entitlements").fill("export, sync");
    // Two ids, one as long as Stripe's real ones: each must stay whole in the table, on a laptop and a phone.
    await form.getByLabel("Stripe price ids").fill(`price_acme_pro_yearly, ${LONG_PRICE}`);
    await form.getByLabel("Offline token lifetime in days").fill("14");
    await form.getByRole("button", { name: "Create plan" }).click();
    const row = card.getByRole("row").filter({ hasText: "acme-studio-pro" });
    await row.waitFor();
    expect(await row.textContent()).toContain("price_acme_pro_yearly");
    expect(await row.textContent()).toContain("365 days");
    expect(await row.textContent()).toContain("14 days");
    expect(await row.textContent()).toContain("+ 7 days grace");
    expect(await brokenIdentifiers(page)).toEqual([]);
    // The whole table fits a laptop: nothing, the row's buttons included, hides behind a sideways scroll.
    expect(await card.getByRole("table").evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth + 1)).toBe(true);
    await screenshot(page, "admin-products-laptop");
  });

  it("issues a license by hand and shows its key once", async () => {
    await page.goto(`${app.url}/admin/licenses/new`);
    await page.getByLabel("Plan").selectOption({ label: "acme-studio · Pro (3 seats, 365 days)" });
    await page.getByLabel("Customer email").fill(BUYER);
    await screenshot(page, "admin-license-issue-laptop");
    await page.getByRole("button", { name: "Issue license" }).click();
    await page.getByRole("heading", { name: "License issued" }).waitFor();
    key = (await page.getByTestId("secret-value").textContent())!;
    expect(key).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
    await screenshot(page, "admin-license-issued-laptop");

    // The key works, and the buyer got it by email.
    expect((await app.post("/api/v1/licenses/validate", { key })).body.code).toBe("VALID");
    const mail = await eventually(async () => catcher.messages.find((m) => m.to.includes(BUYER.toLowerCase()) || m.to.includes(BUYER)), 30_000, "the license email");
    expect(mail.text).toContain(key);

    await page.getByRole("link", { name: "Open the license" }).click();
    await page.waitForURL(/\/admin\/licenses\/[0-9a-f-]{36}$/);
    licensePath = new URL(page.url()).pathname;

    // Lowering seats below the devices in use says, before saving, which devices the seat rule frees.
    for (const fingerprint of ["desk", "laptop"]) {
      expect((await app.post("/api/v1/licenses/activate", { key, fingerprint })).status).toBe(201);
    }
    await page.reload();
    await page.getByRole("button", { name: "Change seats" }).click();
    const seats = page.getByLabel("Seats (devices at once)");
    await expect.poll(() => page.getByText("2 in use now.").count()).toBe(1);
    await seats.fill("1");
    await page.getByText("2 in use now. Saving 1 frees the device seen least recently.").waitFor();
    await seats.fill("3");
    await page.getByText(/^2 in use now\.$/).waitFor();
    // Back as the later steps expect it: no device yet.
    for (const fingerprint of ["desk", "laptop"]) {
      expect((await app.post("/api/v1/licenses/deactivate", { key, fingerprint })).status).toBe(200);
    }
    await page.reload();
  });

  it("finds the license by the start of the customer's email, in any case", async () => {
    const activated = await app.post("/api/v1/licenses/activate", { key, fingerprint: "studio-mac-01", name: "Studio Mac", platform: "macOS" });
    expect(activated.status).toBe(201);

    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Licenses" }).click();
    await page.waitForURL(`${app.url}/admin/licenses`);
    await page.getByLabel("Search", { exact: true }).fill("grace.HOP");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=grace\.HOP/);
    await page.getByText(/Showing licenses matching .*emails starting with/).waitFor();
    const rows = page.getByRole("table", { name: "Licenses" }).getByRole("row");
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).textContent()).toContain(`…-${key.slice(-5)}`);
    expect(await rows.nth(1).textContent()).toContain("1 / 3");
    await screenshot(page, "admin-licenses-search-laptop");

    // And by the hint everybody sees.
    await page.getByLabel("Search", { exact: true }).fill(`…-${key.slice(-5).toLowerCase()}`);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText(`keys ending in ${key.slice(-5)}`).waitFor();

    await page.getByRole("link", { name: `…-${key.slice(-5)}` }).first().click();
    await page.waitForURL(`${app.url}${licensePath}`);
    await page.getByRole("heading", { name: `License …-${key.slice(-5)}` }).waitFor();
    await page.getByRole("table", { name: "Devices" }).getByText("studio-mac-01").waitFor();
    await page.getByRole("list", { name: "Timeline" }).getByText("License issued").waitFor();
    await screenshot(page, "admin-license-laptop");
  });

  it("revokes it with a reason, after confirming, and the public validate route answers REVOKED", async () => {
    await page.getByRole("button", { name: "Revoke" }).click();
    const dialog = page.getByRole("dialog", { name: "Revoke this license for good?" });
    await dialog.waitFor();
    await dialog.getByLabel("Reason the customer sees (optional)").fill("The payment was refunded.");
    await screenshot(page, "admin-license-revoke-confirm-laptop");
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await page.getByText("Reason the customer sees: The payment was refunded.").waitFor();
    await page.getByText("A revoked license is final").waitFor();
    await page.getByRole("list", { name: "Timeline" }).getByText(/License revoked/).waitFor();
    await screenshot(page, "admin-license-revoked-laptop");

    const validate = await app.post("/api/v1/licenses/validate", { key, fingerprint: "studio-mac-01" });
    expect(validate.body).toMatchObject({ valid: false, code: "REVOKED" });
  });

  it("shows every other admin area with its data, without errors", async () => {
    const visit = async (path: string, ready: () => Promise<unknown>, name: string) => {
      await page.goto(`${app.url}${path}`);
      await ready();
      await screenshot(page, `${name}-laptop`);
    };
    await visit("/admin/customers", () => page.getByRole("link", { name: BUYER }).waitFor(), "admin-customers");
    await page.getByRole("link", { name: BUYER }).click();
    await page.getByRole("heading", { name: BUYER }).waitFor();
    await page.getByRole("table", { name: "Licenses" }).getByText("revoked").waitFor();
    await screenshot(page, "admin-customer-laptop");

    await visit("/admin/stripe-events", () => page.getByText("No Stripe event has arrived yet.").waitFor(), "admin-stripe-events");
    await visit("/admin/emails", () => page.getByRole("table", { name: "Emails" }).waitFor(), "admin-emails");
    await visit("/admin/emails/templates", () => page.getByText(/^Subject: /).waitFor(), "admin-email-templates");
    await visit("/admin/settings", () => page.getByRole("table", { name: "Signing keys" }).waitFor(), "admin-settings");
    await visit("/admin/audit", () => page.getByRole("list", { name: "Audit entries" }).getByText("License revoked").first().waitFor(), "admin-audit");
    await visit("/admin/export", () => page.getByRole("link", { name: "Download JSON (sealed keys)" }).waitFor(), "admin-export");

    // The export link downloads a file holding the key.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^keystead-licenses-.*\.csv$/);
    const stream = await download.createReadStream();
    let csv = "";
    for await (const chunk of stream) csv += chunk;
    expect(csv).toContain(key);

    expect(problems).toEqual([]);
  });

  it("creates an API token shown once, and rotates the signing key after confirming", async () => {
    await page.goto(`${app.url}/admin/settings`);
    await page.getByLabel("New token's name").fill("billing script");
    // Scopes: read is ticked by default; add licenses:write. An expiry date a year from now.
    await page.getByRole("checkbox", { name: /licenses:write/ }).check();
    const nextYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel("Expires (optional)").fill(nextYear);
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.getByTestId("secret-value").textContent())!;
    expect(token).toMatch(/^ks_/);
    const auth = { authorization: `Bearer ${token}` };
    expect((await app.get("/api/v1/admin/products", auth)).status).toBe(200);
    // Outside its scopes: 403 naming the scope.
    const refused = await app.post("/api/v1/admin/products", { slug: "by-token", name: "Nope" }, auth);
    expect([refused.status, refused.body.error.details]).toEqual([403, { scope: "catalog:write" }]);
    const row = page.getByRole("table", { name: "API tokens" }).getByRole("row").filter({ hasText: "billing script" });
    await expect.poll(() => row.textContent()).toContain("read, licenses:write");
    // Columns: name, token, scopes, expires, created (and by whom), last used.
    expect((await row.getByRole("cell").nth(3).textContent())?.trim()).not.toBe("never");
    // Last use shows after a reload (it was used just now).
    await page.reload();
    await row.waitFor();
    expect((await row.getByRole("cell").nth(5).textContent())?.trim()).not.toBe("never");
    // The whole table fits a laptop: the Revoke button does not hide behind a sideways scroll.
    const table = page.getByRole("table", { name: "API tokens" });
    expect(await table.evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth + 1)).toBe(true);
    await screenshot(page, "admin-settings-tokens-laptop");

    const kidsBefore = (await app.get("/api/v1/jwks")).body.keys.length;
    await page.getByRole("button", { name: "Rotate signing key" }).click();
    await page.getByRole("dialog", { name: "Rotate the signing key?" }).getByRole("button", { name: "Rotate" }).click();
    await page.getByText(/New key .* signs from now on/).waitFor();
    expect((await app.get("/api/v1/jwks")).body.keys.length).toBe(kidsBefore + 1);
    await screenshot(page, "admin-settings-rotated-laptop");
    expect(problems).toEqual([]);
  });
});

describe("the admin app on a phone", () => {
  it("every area fits the screen (wide tables become cards) and loads without errors", async () => {
    const { page, problems, context } = await newPerson(browser, PHONE);
    await signIn(page);
    const areas: [path: string, ready: () => Promise<unknown>, name: string][] = [
      ["/admin/licenses", () => page.getByRole("table", { name: "Licenses" }).waitFor(), "admin-licenses"],
      ["/admin/licenses/new", () => page.getByLabel("Customer email").waitFor(), "admin-license-issue"],
      ["/admin/customers", () => page.getByRole("table", { name: "Customers" }).waitFor(), "admin-customers"],
      ["/admin/products", () => page.getByRole("region", { name: "Acme Studio" }).waitFor(), "admin-products"],
      ["/admin/stripe-events", () => page.getByText("No Stripe event has arrived yet.").waitFor(), "admin-stripe-events"],
      ["/admin/emails", () => page.getByRole("table", { name: "Emails" }).waitFor(), "admin-emails"],
      ["/admin/emails/templates", () => page.getByText(/^Subject: /).waitFor(), "admin-email-templates"],
      ["/admin/settings", () => page.getByRole("table", { name: "API tokens" }).waitFor(), "admin-settings"],
      ["/admin/audit", () => page.getByRole("list", { name: "Audit entries" }).waitFor(), "admin-audit"],
      ["/admin/export", () => page.getByRole("link", { name: "Download JSON (sealed keys)" }).waitFor(), "admin-export"],
    ];
    for (const [path, ready, name] of areas) {
      await page.goto(`${app.url}${path}`);
      await ready();
      await screenshot(page, `${name}-phone`);
      expect(await widerThanPhone(page), path).toBe(false);
      expect(await brokenIdentifiers(page), path).toEqual([]);
    }
    const cardTables: [path: string, table: string][] = [
      ["/admin/licenses", "Licenses"],
      ["/admin/customers", "Customers"],
      ["/admin/products", "Plans of Acme Studio"],
    ];
    for (const [path, table] of cardTables) {
      await page.goto(`${app.url}${path}`);
      await page.getByRole("table", { name: table }).getByRole("row").nth(1).waitFor();
      expect(await cutOffRows(page, table), path).toEqual([]);
    }
    // Every field of a card is labelled, the long price id included.
    const plan = page.getByRole("table", { name: "Plans of Acme Studio" }).getByRole("row").filter({ hasText: "acme-studio-pro" });
    expect(await plan.locator("td[data-label]").evaluateAll((tds) => tds.map((td) => getComputedStyle(td, "::before").content))).toEqual(
      ['"Plan"', '"Seats"', '"Duration"', '"Entitlements"', '"Stripe prices"', '"Offline token"', '"Heartbeat"'],
    );
    await plan.getByTitle(LONG_PRICE).waitFor();
    // A license page, reached from the list.
    await page.goto(`${app.url}/admin/licenses`);
    await page.getByRole("table", { name: "Licenses" }).getByRole("link").first().click();
    await page.getByRole("heading", { name: /^License …-/ }).waitFor();
    await page.getByRole("table", { name: "Devices" }).getByText("studio-mac-01").waitFor();
    await screenshot(page, "admin-license-phone");
    expect(await widerThanPhone(page)).toBe(false);
    expect(await cutOffRows(page, "Devices")).toEqual([]);

    // Errors are words: an unknown license id.
    await page.goto(`${app.url}/admin/licenses/00000000-0000-4000-8000-000000000000`);
    await page.getByText("There is no license with that id.").waitFor();
    await screenshot(page, "admin-license-not-found-phone");
    expect(problems.filter((p) => !p.startsWith("404 "))).toEqual([]);
    await context.close();
  });
});
