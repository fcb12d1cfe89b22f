import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startApp, type TestApp } from "./app";
import { startSmtpCatcher, type SmtpCatcher } from "./smtp-catcher";

/**
 * Real Chromium for page tests: Debian's /usr/bin/chromium driven by playwright-core (which cannot download
 * browsers here). Screenshots go to test-artifacts/screenshots/ (git-ignored; CI keeps them as artifacts).
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.join(process.cwd(), "test-artifacts", "screenshots");

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } as const;
export const LAPTOP = { viewport: { width: 1280, height: 800 } } as const;

/** What a page test runs against: the built app mailing through an SMTP catcher, and Chromium. */
export type BrowserApp = { app: TestApp; catcher: SmtpCatcher; browser: Browser };

export async function startBrowserApp(env: Record<string, string>): Promise<BrowserApp> {
  const catcher = await startSmtpCatcher();
  const app = await startApp({ env: { SMTP_URL: catcher.url, ...env } });
  return { app, catcher, browser: await launchBrowser() };
}

export async function stopBrowserApp(parts: Partial<BrowserApp>) {
  await parts.browser?.close();
  await parts.app?.stop();
  await parts.catcher?.stop();
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * A fresh, cookie-less browser context (one "person"), sized like a phone or a laptop. Console errors, CSP
 * violations and failed page requests are collected, so a test can assert the page ran cleanly.
 */
export async function newPerson(browser: Browser, device: typeof PHONE | typeof LAPTOP = LAPTOP) {
  const context: BrowserContext = await browser.newContext({ ...device });
  // Anything the page's Content-Security-Policy blocks becomes a console error, so it counts as a problem.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"} in ${e.sourceFile || e.documentURI}`),
    );
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    // Chromium's "Failed to load resource" line names no URL; the response handler below does.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) problems.push(`console error: ${msg.text()}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
  });
  return { context, page, problems };
}

/** Saves a full-page screenshot as test-artifacts/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-_]+/gi, "-")}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** True when the page is wider than its viewport (something forces sideways scrolling on a phone). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/** The sign-in link in an email's text: the confirm page it leads to. */
export const signInLinkIn = (text: string): string | undefined => /(http:\/\/\S+\/signin\/confirm\?\S+)/.exec(text)?.[1];

/** Opens the emailed link (a confirm page) and presses its button, as the person would. */
export async function confirmSignIn(page: Page, link: string) {
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * Asks for a sign-in link on the sign-in page, follows the one the catcher receives, lands in the admin app
 * (or, with `area: "/portal"`, in the customer portal).
 */
export async function signInAsAdmin(page: Page, appUrl: string, catcher: SmtpCatcher, email: string, area = "/admin") {
  await page.goto(`${appUrl}${area}`);
  await page.waitForURL(/\/signin/);
  const before = catcher.messages.length;
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  let link: string | undefined;
  for (let n = before + 1; !link; n++) {
    const message = await catcher.waitFor(n);
    if (message.to.includes(email)) link = signInLinkIn(message.text);
  }
  await confirmSignIn(page, link);
  await page.waitForURL(`${appUrl}${area}`);
}
