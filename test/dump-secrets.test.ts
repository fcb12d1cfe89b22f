import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSessionToken } from "@/server/auth/hashed-adapter";
import { emailOutbox } from "@/server/db/schema";
import { hashLicenseKey, normalizeLicenseKey } from "@/server/domain/licensing/license-key";
import { eventually, startApp, TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, TEST_WEBHOOK_SECRET, type TestApp } from "./helpers/app";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";
import { browserless, signInByEmail, type Browserless } from "./helpers/sign-in";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

/**
 * A dump, a replica or a backup of the database must not be a way in: after a whole flow through the real app
 * (a checkout, its key emailed and activated, a customer and an admin signed in with emailed links, an API token
 * made, keys revealed), `pg_dump` the database and look for every secret the flow handled.
 */
const run = promisify(execFile);
const ADMIN = "boss@example.com";
const STRIPE_KEY = "sk_test_dump_0123456789";
const KEY_PATTERN = /[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}/g;

describe("a database dump", () => {
  let app: TestApp;
  let stripe: FakeStripe;
  let smtp: SmtpCatcher;
  const bootstrap = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  beforeAll(async () => {
    stripe = await startFakeStripe();
    smtp = await startSmtpCatcher();
    app = await startApp({
      env: { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_URL: stripe.url, SMTP_URL: smtp.url, ADMIN_EMAILS: ADMIN },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await stripe?.stop();
    await smtp?.stop();
  });

  const trpcMutation = (client: Browserless, procedure: string, input: unknown) =>
    client.request(`/api/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: app.url },
      body: JSON.stringify(input),
    });

  it("holds none of the secrets a whole flow handled", async () => {
    const priceId = randomId("price");
    expect((await app.post("/api/v1/admin/products", { slug: "dump-app", name: "Dump App" }, bootstrap)).status).toBe(201);
    const plan = { product: "dump-app", slug: "dump-pro", name: "Pro", seats: 2, durationDays: null, entitlements: [], stripePriceIds: [priceId] };
    expect((await app.post("/api/v1/admin/plans", plan, bootstrap)).status).toBe(201);

    // A checkout: the key reaches the buyer by email only.
    const session = stripe.addCheckoutSession({ email: "dana@example.com" }, [{ priceId, quantity: 1 }]);
    const { body, headers } = signedWebhook(stripeEvent("checkout.session.completed", session));
    expect((await app.post("/api/stripe/webhook", body, headers)).status).toBe(200);
    const keyMail = await smtp.waitFor(1, 30_000);
    const key = [...new Set(keyMail.text.match(KEY_PATTERN) ?? [])];
    expect(key).toHaveLength(1);
    const licenseKey = key[0]!;

    const activated = await app.post("/api/v1/licenses/activate", { key: licenseKey, fingerprint: "dana-desktop" });
    expect(activated.status).toBe(201);
    const licenseId: string = activated.body.license.id;

    // The customer signs in and has the portal show the key.
    const customer = browserless(app.url);
    const customerSignIn = await signInByEmail(customer, smtp, "dana@example.com", "/portal");
    const revealed = await trpcMutation(customer, "portal.revealKey", { licenseId });
    expect(revealed.status).toBe(200);
    expect((await revealed.json()).result.data.key).toBe(licenseKey);

    // An admin signs in, makes an API token (and uses it), and exports with the keys revealed.
    const admin = browserless(app.url);
    const adminSignIn = await signInByEmail(admin, smtp, ADMIN, "/admin");
    const made = await trpcMutation(admin, "settings.createApiToken", { name: "dump test", scopes: ["read"] });
    expect(made.status).toBe(200);
    const apiToken: string = (await made.json()).result.data.secret;
    expect(apiToken).toMatch(/^ks_/);
    expect((await app.get("/api/v1/admin/products", { authorization: `Bearer ${apiToken}` })).status).toBe(200);
    // An outgoing webhook endpoint, its secret rotated: both secrets are held (the previous one signs for a day).
    const hook = await app.post("/api/v1/admin/webhooks", { url: "https://93.184.215.14/keystead", events: ["license.created"] }, bootstrap);
    expect(hook.status).toBe(201);
    const rotatedHook = await fetch(`${app.url}/api/v1/admin/webhooks/${hook.body.webhook.id}/rotate-secret`, { method: "POST", headers: bootstrap });
    expect(rotatedHook.status).toBe(200);
    const hookSecrets = [hook.body.secret as string, ((await rotatedHook.json()) as { secret: string }).secret];
    const exported = await admin.request("/api/admin/export/json?keys=clear");
    expect(exported.status).toBe(200);
    const exportedLicense = (await exported.json()).tables.licenses.find((l: { id: string }) => l.id === licenseId);
    expect(exportedLicense.key).toBe(licenseKey);

    // Every email owed along the way has gone out (its row is in its final state).
    await eventually(async () => (await app.database.db.select().from(emailOutbox).where(ne(emailOutbox.status, "sent"))).length === 0);

    const { stdout: dump } = await run("pg_dump", ["--no-owner", "--dbname", app.database.url], { maxBuffer: 256 * 1024 * 1024 });
    // The dump is the real thing: the rows the flow wrote are in it, as their hashes and hints.
    expect(dump).toContain("dana@example.com");
    expect(dump).toContain(hashLicenseKey(licenseKey)!);
    expect(dump).toContain(hashSessionToken(customerSignIn.cookie));
    expect(dump).toContain(hashSessionToken(adminSignIn.cookie));
    expect(dump).toContain("dump test");
    expect(dump).toContain("https://93.184.215.14/keystead");

    const compact = normalizeLicenseKey(licenseKey)!;
    const secrets: Record<string, string> = {
      "license key": licenseKey,
      "license key, lower case": licenseKey.toLowerCase(),
      "license key without dashes": compact,
      "license key without dashes, lower case": compact.toLowerCase(),
      "customer's session cookie": customerSignIn.cookie,
      "admin's session cookie": adminSignIn.cookie,
      "customer's sign-in link token": customerSignIn.linkToken,
      "admin's sign-in link token": adminSignIn.linkToken,
      "API token": apiToken,
      "API token without its prefix": apiToken.slice(3),
      "offline token": activated.body.token,
      ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
      AUTH_SECRET: TEST_AUTH_SECRET,
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      "webhook secret": hookSecrets[0]!,
      "webhook secret's key": hookSecrets[0]!.slice("whsec_".length),
      "rotated webhook secret": hookSecrets[1]!,
      "rotated webhook secret's key": hookSecrets[1]!.slice("whsec_".length),
    };
    const found = Object.entries(secrets)
      .filter(([, value]) => dump.includes(value))
      .map(([what]) => what);
    expect(found).toEqual([]);
  });
});
