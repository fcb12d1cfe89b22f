import fs from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { LAPTOP, launchBrowser, newPerson, overflowsHorizontally, PHONE, SCREENSHOT_DIR } from "./helpers/browser";

/**
 * GET /api/v1/docs in real Chromium: the reference renders the document (operations and their scopes), loads
 * nothing from any other host, and breaks nothing of its own Content-Security-Policy; on a laptop and a phone.
 */

let app: TestApp;
let browser: Browser;
beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe("the API reference page", () => {
  it.each([
    ["laptop", LAPTOP],
    ["phone", PHONE],
  ] as const)("renders the OpenAPI document on a %s, from this origin only", async (name, device) => {
    const { page, problems, context } = await newPerson(browser, device);
    const elsewhere: string[] = [];
    const requested: string[] = [];
    page.on("request", (req) => {
      const url = new URL(req.url());
      requested.push(url.pathname);
      if (url.origin !== app.url && url.protocol !== "data:" && url.protocol !== "blob:") elsewhere.push(req.url());
    });
    await page.goto(`${app.url}/api/v1/docs`);
    await page.getByRole("heading", { name: "Keystead API" }).first().waitFor({ timeout: 30_000 });
    // Operations from the document are shown (Scalar renders them as they scroll into view: the first one now).
    await page.getByRole("heading", { name: /Check a key \(and optionally a machine/ }).waitFor({ timeout: 30_000 });
    if (name === "laptop") {
      // A management operation, reached from the sidebar, with the scope it needs.
      await page.getByText("Search licenses by key, key hint", { exact: false }).first().click();
      await page.getByRole("heading", { name: /Search licenses by key, key hint/ }).waitFor({ timeout: 30_000 });
      await page.getByText("Needs a token with the read scope", { exact: false }).first().waitFor();
    }
    // Give late requests (fonts, images, lazy chunks) a moment to show up in `elsewhere` and `problems`.
    await page.waitForTimeout(1500);
    // The page is very long (every operation): the screenshot is its first screenful.
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `api-docs-${name}.png`) });
    expect(elsewhere).toEqual([]);
    // The page, its two scripts and the document; nothing else it needs.
    expect(new Set(requested)).toEqual(new Set(["/api/v1/docs", "/api/v1/docs/scalar.js", "/api/v1/docs/init.js", "/api/v1/openapi.json"]));
    // Zod inside Scalar probes whether eval is allowed (`Function("")` in a try) and, refused by the policy, runs
    // without it; the browser reports the refusal. Anything else is a problem.
    const probe = `console error: CSP violation: script-src blocked eval in ${app.url}/api/v1/docs/scalar.js`;
    expect(problems.filter((p) => p !== probe)).toEqual([]);
    if (name === "phone") expect(await overflowsHorizontally(page)).toBe(false);
    await context.close();
  });
});
