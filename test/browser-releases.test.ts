import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { LAPTOP, newPerson, overflowsHorizontally, PHONE, screenshot, signInAsAdmin, startBrowserApp, stopBrowserApp } from "./helpers/browser";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import type { SmtpCatcher } from "./helpers/smtp-catcher";

// The Releases page of the admin app (upload with progress, sha256 shown, yank) and the portal's downloads,
// in real Chromium against the built app.

const ADMIN = "operator@example.com";
const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
let dataDir: string;
beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-browser-releases-"));
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN, DATA_DIR: dataDir }));
});
afterAll(async () => {
  await stopBrowserApp({ app, catcher, browser });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("releases in the browser", () => {
  it("the admin uploads a release, sees its sha256, and yanks another", async () => {
    const product = await makeProduct(app.database.db, { name: "Photo Studio" });
    const bytes = crypto.randomBytes(3 * 1024 * 1024);
    const { page, problems, context } = await newPerson(browser, LAPTOP);
    try {
      await signInAsAdmin(page, app.url, catcher, ADMIN);
      await page.goto(`${app.url}/admin/releases`);
      await page.getByLabel("Product").selectOption(product.slug);
      await page.getByText("No releases yet.").waitFor();
      await screenshot(page, "admin-releases-empty-laptop");

      await page.getByRole("button", { name: "New release" }).click();
      await page.getByLabel("Version").fill("1.2.0");
      await page.getByLabel("Platform").fill("windows-x64");
      await page.getByLabel("Notes").fill("Faster exports and a new dark theme.");
      await page.getByLabel("File", { exact: true }).setInputFiles({ name: "photo-studio-1.2.0.exe", mimeType: "application/octet-stream", buffer: bytes });
      await page.getByRole("button", { name: "Save release" }).click();
      await page.getByText("Release 1.2.0 saved.").waitFor({ timeout: 10_000 }).catch(async (err) => {
        await screenshot(page, "admin-releases-upload-failed");
        throw new Error(`${err}\nproblems: ${problems.join("; ")}`);
      });
      // The sha256 the server computed while the file streamed in is the file's.
      await expect(page.getByText(sha256(bytes)).first().isVisible()).resolves.toBe(true);
      const table = page.getByRole("table", { name: "Releases" });
      await table.getByText("photo-studio-1.2.0.exe").waitFor();
      await screenshot(page, "admin-releases-uploaded-laptop");
      expect(fs.readFileSync(path.join(dataDir, "releases", fs.readdirSync(path.join(dataDir, "releases")).find((f) => !f.startsWith("."))!)).equals(bytes)).toBe(true);

      // A hosted-elsewhere release, then yank it.
      await page.getByLabel("Version").fill("1.1.0");
      await page.getByLabel("Hosted elsewhere (URL)").check();
      await page.getByLabel("URL", { exact: true }).fill("https://downloads.example.com/photo-studio-1.1.0.zip");
      await page.getByRole("button", { name: "Save release" }).click();
      await page.getByText("Release 1.1.0 saved.").waitFor();
      const row = table.getByRole("row").filter({ hasText: "1.1.0" });
      await row.getByRole("button", { name: "Yank" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Yank" }).click();
      await row.getByText("yanked").waitFor();
      await page.getByRole("button", { name: "Close" }).click();
      await screenshot(page, "admin-releases-yanked-laptop");

      const list = await app.get(`/api/v1/admin/releases?product=${product.slug}`, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
      expect(list.body.data.map((r: any) => [r.version, r.platform, r.sha256, r.yankedAt !== null])).toEqual([
        ["1.2.0", "windows-x64", sha256(bytes), false],
        ["1.1.0", null, null, true],
      ]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }

    const phone = await newPerson(browser, PHONE);
    try {
      await signInAsAdmin(phone.page, app.url, catcher, ADMIN);
      await phone.page.goto(`${app.url}/admin/releases`);
      await phone.page.getByLabel("Product").selectOption(product.slug);
      await phone.page.getByText("photo-studio-1.2.0.exe").waitFor();
      await screenshot(phone.page, "admin-releases-phone");
      expect(await overflowsHorizontally(phone.page)).toBe(false);
      expect(phone.problems).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it("a customer sees and downloads what their license may have; another customer sees none of it", async () => {
    const db = app.database.db;
    const product = await makeProduct(db, { name: "Sound Forge" });
    const plan = await makePlan(db, { productId: product.id, name: "Pro", entitlements: ["pro"] });
    const email = `buyer-${Date.now()}@example.com`;
    const customer = await makeCustomer(db, email);
    await makeLicense(db, { planId: plan.id, customerId: customer.id });
    const strangerEmail = `stranger-${Date.now()}@example.com`;
    const stranger = await makeCustomer(db, strangerEmail);
    await makeLicense(db, { customerId: stranger.id });

    const bytes = crypto.randomBytes(200_000);
    const form = new FormData();
    for (const [k, v] of Object.entries({ product: product.slug, version: "3.1.0", channel: "stable", notes: "Bug fixes." })) form.append(k, v);
    form.append("file", new Blob([new Uint8Array(bytes)]), "sound-forge-3.1.0.dmg");
    const up = await fetch(`${app.url}/api/v1/admin/releases`, { method: "POST", headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: form });
    expect(up.status).toBe(201);

    for (const device of [LAPTOP, PHONE]) {
      const { page, problems, context } = await newPerson(browser, device);
      try {
        await signInAsAdmin(page, app.url, catcher, email, "/portal");
        await page.getByRole("heading", { name: "Downloads" }).waitFor();
        const link = page.getByRole("link", { name: "sound-forge-3.1.0.dmg" });
        await page.getByText(sha256(bytes)).waitFor();
        await screenshot(page, `portal-downloads-${device === PHONE ? "phone" : "laptop"}`);
        expect(await overflowsHorizontally(page)).toBe(false);
        const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
        expect(download.suggestedFilename()).toBe("sound-forge-3.1.0.dmg");
        expect(fs.readFileSync((await download.path())!).equals(bytes)).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    }

    const { page, context } = await newPerson(browser, LAPTOP);
    try {
      await signInAsAdmin(page, app.url, catcher, strangerEmail, "/portal");
      await page.getByRole("heading", { name: "Your licenses" }).waitFor();
      await page.getByRole("article").first().waitFor();
      await page.waitForLoadState("networkidle");
      expect(await page.getByRole("heading", { name: "Downloads" }).count()).toBe(0);
      expect(await page.getByText("sound-forge-3.1.0.dmg").count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
