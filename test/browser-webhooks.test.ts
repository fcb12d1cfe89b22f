import type { Browser } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestApp } from "./helpers/app";
import { LAPTOP, newPerson, overflowsHorizontally, PHONE, screenshot, signInAsAdmin, startBrowserApp, stopBrowserApp } from "./helpers/browser";
import { makeLicense } from "./helpers/factories";
import type { SmtpCatcher } from "./helpers/smtp-catcher";
import { startWebhookReceiver, type WebhookReceiver } from "./helpers/webhook-receiver";

// The admin's webhooks pages in real Chromium against the built app: add an endpoint (its secret shown once),
// send a test event and see it in the delivery log with its status, latency and first bytes, retry a failed
// delivery, replay a delivered one, rotate the secret, disable the endpoint; on a laptop and on a phone.

const ADMIN = "hooks-admin@example.com";

let app: TestApp;
let catcher: SmtpCatcher;
let browser: Browser;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ app, catcher, browser } = await startBrowserApp({ ADMIN_EMAILS: ADMIN, WEBHOOK_ALLOW_PRIVATE: "1" }));
});
afterAll(async () => {
  await stopBrowserApp({ app, catcher, browser });
  await receiver?.stop();
});

describe("the webhooks pages", () => {
  it("add an endpoint, see its deliveries, retry, replay, rotate and disable, on a laptop", async () => {
    const { page, problems, context } = await newPerson(browser, LAPTOP);
    try {
      await signInAsAdmin(page, app.url, catcher, ADMIN);
      await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Webhooks" }).click();
      await page.getByText("No webhook endpoint yet.").waitFor();
      await screenshot(page, "webhooks-empty-laptop");

      await page.getByLabel("URL").fill(`${receiver.url}/from-browser`);
      await page.getByLabel("Description").fill("CRM sync");
      await page.getByLabel(/^license\.created/).check();
      await page.getByLabel(/^activation\.created/).check();
      await page.getByRole("button", { name: "Add endpoint" }).click();
      const secret = (await page.getByTestId("secret-value").textContent())!;
      expect(secret).toMatch(/^whsec_/);
      await page.getByRole("table", { name: "Webhook endpoints" }).getByText("enabled").waitFor();
      await screenshot(page, "webhooks-created-laptop");

      // A real change reaches it, verified with the secret the page showed.
      const { license } = await makeLicense(app.database.db);
      const [created] = await receiver.waitFor(1, (r) => r.json.type === "license.created" && r.json.data.license.id === license.id);
      expect(new Webhook(secret).verify(created!.body, created!.headers)).toMatchObject({ type: "license.created" });

      await page.getByRole("link", { name: `${receiver.url}/from-browser` }).click();
      await page.getByRole("heading", { name: "Webhook endpoint" }).waitFor();
      const log = page.getByRole("table", { name: "Deliveries" });
      await log.getByText("license.created").waitFor();
      await log.getByText("delivered").first().waitFor();

      // A failing test event: its attempt shows the status and the answer's first bytes; Retry now delivers it.
      receiver.always(500, "receiver exploded");
      await page.getByRole("button", { name: "Send test event" }).click();
      await log.getByText("webhook.test").waitFor();
      await log.getByText(/HTTP 500 in \d+ ms/).first().waitFor({ timeout: 15_000 });
      // The receiver keeps failing until the manual retry below: an automatic retry meanwhile (5 s later, sooner
      // than a loaded machine gets here) fails too, so the row still reads "last HTTP 500".
      await log.getByText(/\d+ attempts?, last HTTP 500/).first().click();
      await log.getByLabel("First bytes of the answer").first().waitFor();
      expect(await log.getByLabel("First bytes of the answer").first().textContent()).toBe("receiver exploded");
      await screenshot(page, "webhook-detail-failed-laptop");
      receiver.always(null);
      await log.getByRole("button", { name: "Retry now" }).first().click();
      await log.getByText(/retried by hand/).first().waitFor({ timeout: 15_000 });
      // The log refreshes by polling: once it has, no failed delivery is left to retry.
      await expect.poll(() => log.getByRole("button", { name: "Retry now" }).count(), { timeout: 15_000 }).toBe(0);

      // Replay a delivered event: the receiver gets it again under the same webhook-id.
      const before = receiver.received.filter((r) => r.headers["webhook-id"] === created!.headers["webhook-id"]).length;
      await log.getByRole("row").filter({ hasText: "license.created" }).getByRole("button", { name: "Replay" }).click();
      await receiver.waitFor(before + 1, (r) => r.headers["webhook-id"] === created!.headers["webhook-id"]);

      // Rotate: a new secret shown once, the old one still signing for a day.
      await page.getByRole("button", { name: "Rotate secret" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Rotate" }).click();
      const rotated = (await page.getByTestId("secret-value").textContent())!;
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(secret);
      await page.getByText(/the previous one also signs until/).waitFor();
      await screenshot(page, "webhook-detail-laptop");

      await page.getByRole("button", { name: "Disable" }).click();
      await page.getByRole("button", { name: "Enable" }).waitFor();
      expect(await page.getByRole("button", { name: "Send test event" }).isDisabled()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the list and an endpoint read on a phone, and a refused URL says why", async () => {
    const { page, problems, context } = await newPerson(browser, PHONE);
    try {
      await signInAsAdmin(page, app.url, catcher, ADMIN);
      await page.goto(`${app.url}/admin/webhooks`);
      await page.getByRole("table", { name: "Webhook endpoints" }).waitFor();
      await page.getByLabel("URL").fill("ftp://example.com/hook");
      await page.getByLabel(/^license\.revoked/).check();
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await page.getByText("The URL must start with https:// or http://.").waitFor();
      expect(await overflowsHorizontally(page)).toBe(false);
      await screenshot(page, "webhooks-phone");
      await page.getByRole("link", { name: `${receiver.url}/from-browser` }).click();
      await page.getByRole("table", { name: "Deliveries" }).waitFor();
      expect(await overflowsHorizontally(page)).toBe(false);
      await screenshot(page, "webhook-detail-phone");
      // The refused URL's 400 is the one failed request; nothing else went wrong.
      expect(problems.filter((p) => !p.includes("/api/trpc/webhooks.create"))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
