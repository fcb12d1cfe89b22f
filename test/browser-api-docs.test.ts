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
    page.on("request", (req) => {
      const url = new URL(req.url());
      if (url.origin !== app.url && url.protocol !== "data:" && url.protocol !== "blob:") elsewhere.push(req.url());
    });
    await page.goto(`${app.url}/api/v1/docs`);
    await page.getByRole("heading", { name: "Keystead API" }).first().waitFor({ timeout: 30_000 });
    // Operations from the document are shown, management and public ones.
    await page.getByRole("heading", { name: /Search licenses by key, key hint/ }).first().waitFor({ timeout: 30_000 });
    await page.getByRole("heading", { name: /Activate a machine/ }).first().waitFor();
    await page.waitForLoadState("networkidle");
    // The page is very long (every operation): the screenshot is its first screenful.
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `api-docs-${name}.png`) });
    expect(elsewhere).toEqual([]);
    // Zod inside Scalar probes whether eval is allowed (`Function("")` in a try) and, refused by the policy, runs
    // without it; the browser reports the refusal. Anything else is a problem.
    const probe = `console error: CSP violation: script-src blocked eval in ${app.url}/api/v1/docs/scalar.js`;
    expect(problems.filter((p) => p !== probe)).toEqual([]);
    if (name === "phone") expect(await overflowsHorizontally(page)).toBe(false);
    await context.close();
  });
});
