import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

/**
 * The seed's promise, once, with nothing faked on our side: "Stripe fires, the backend catches it, the key is
 * issued, the user activates." Real app (web + worker), real PostgreSQL, real SMTP delivery to a local catcher,
 * the real stripe SDK talking to a local fake of Stripe's API.
 */
describe("the whole path: payment -> key -> email -> activation -> offline token", () => {
  let app: TestApp;
  let stripe: FakeStripe;
  let smtp: SmtpCatcher;
  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

  beforeAll(async () => {
    stripe = await startFakeStripe();
    smtp = await startSmtpCatcher();
    app = await startApp({
      env: { STRIPE_SECRET_KEY: "sk_test_whole_path", STRIPE_API_URL: stripe.url, SMTP_URL: smtp.url, EMAIL_FROM: "Acme <licenses@acme.test>" },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await stripe?.stop();
    await smtp?.stop();
  });

  it("issues, delivers, activates, verifies offline, validates and deactivates", async () => {
    // The operator sets up a product and a 2-seat plan bound to a Stripe price, through the management API.
    const priceId = randomId("price");
    expect((await app.post("/api/v1/admin/products", { slug: "acme-editor", name: "Acme Editor" }, admin)).status).toBe(201);
    const plan = await app.post(
      "/api/v1/admin/plans",
      { product: "acme-editor", slug: "acme-pro", name: "Pro", seats: 2, durationDays: null, entitlements: ["export"], stripePriceIds: [priceId] },
      admin,
    );
    expect(plan.status).toBe(201);

    // Stripe fires: a paid checkout for that price.
    const session = stripe.addCheckoutSession({ email: "Ada@Example.com" }, [{ priceId, quantity: 1 }]);
    const { body, headers } = signedWebhook(stripeEvent("checkout.session.completed", session));
    const hook = await app.post("/api/stripe/webhook", body, headers);
    expect(hook.status).toBe(200);

    // The key arrives by email, once.
    const mail = await smtp.waitFor(1, 30_000);
    expect(mail.to.map((t) => t.toLowerCase())).toEqual(["ada@example.com"]);
    expect(mail.subject).toContain("Acme Editor");
    const keys = mail.text.match(/[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}/g) ?? [];
    expect(new Set(keys).size).toBe(1);
    const key = keys[0]!;

    // The customer's software activates.
    const activated = await app.post("/api/v1/licenses/activate", { key, fingerprint: "ada-laptop", name: "Ada's laptop", platform: "linux" });
    expect(activated.status).toBe(201);
    expect(activated.body.license).toMatchObject({ status: "active", product: "acme-editor", plan: "acme-pro", maxActivations: 2, activations: 1, expiresAt: null });

    // The offline token verifies with a stock JOSE library against the published keys.
    const jwks = await app.get("/api/v1/jwks");
    expect(jwks.status).toBe(200);
    const { payload, protectedHeader } = await jwtVerify(activated.body.token, createLocalJWKSet(jwks.body), {
      issuer: app.url,
      algorithms: ["EdDSA"],
    });
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", typ: "JWT" });
    expect(payload).toMatchObject({
      sub: activated.body.license.id,
      fingerprint: "ada-laptop",
      product: "acme-editor",
      plan: "acme-pro",
      entitlements: ["export"],
      status: "active",
      licenseExpiresAt: null,
      maxActivations: 2,
    });

    const valid = await app.post("/api/v1/licenses/validate", { key, fingerprint: "ada-laptop", product: "acme-editor", entitlements: ["export"] });
    expect(valid.body).toMatchObject({ valid: true, code: "VALID", activation: { fingerprint: "ada-laptop" } });

    const deactivated = await app.post("/api/v1/licenses/deactivate", { key, fingerprint: "ada-laptop" });
    expect(deactivated).toMatchObject({ status: 200, body: { deactivated: true } });

    const after = await app.post("/api/v1/licenses/validate", { key, fingerprint: "ada-laptop" });
    expect(after.body).toMatchObject({ valid: false, code: "NOT_ACTIVATED", activation: null });

    // Still exactly one email: nothing was sent twice along the way.
    expect(smtp.messages).toHaveLength(1);
  });
});
