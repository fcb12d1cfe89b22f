import crypto from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customers, licenses, websiteErrors } from "@/server/db/schema";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";

// The Key Commander storefront template's calls against the built app, with the exact requests the template
// sends (src/lib/server/subscription.ts, account/reset-machine-id/+page.server.ts, errorApi.ts and its admin
// actions): headers X-Internal-API-Key, Accept, X-Forwarded-For, X-Request-ID, ngrok-skip-browser-warning;
// snake_case bodies; answers read as JSON with `detail` on errors.

const KEY = "kc-internal-key-0123456789abcdef";
const headers = (key: string | null = KEY): Record<string, string> => ({
  Accept: "application/json",
  ...(key === null ? {} : { "X-Internal-API-Key": key }),
  "X-Forwarded-For": "203.0.113.7",
  "X-Request-ID": crypto.randomUUID(),
  "ngrok-skip-browser-warning": "true",
});

/** The template's own runtime check of an entitlement (src/lib/types.ts isLMEntitlement), restated. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
function isLMEntitlement(o: Record<string, unknown>) {
  const nullableIso = (v: unknown) => v === null || (typeof v === "string" && ISO.test(v));
  return (
    typeof o.license_key === "string" &&
    ["active", "trial", "developer", "inactive", "blocked"].includes(o.status as string) &&
    (o.product_identifier === null || typeof o.product_identifier === "string") &&
    nullableIso(o.renews_at) &&
    nullableIso(o.trial_ends_at) &&
    nullableIso(o.last_reset_at) &&
    nullableIso(o.next_allowed_reset_at) &&
    typeof o.quantity === "number" &&
    typeof o.reset_cooldown_seconds === "number"
  );
}

let app: TestApp;
let stripe: FakeStripe;
beforeAll(async () => {
  stripe = await startFakeStripe();
  app = await startApp({ env: { INTERNAL_API_KEY: KEY, STRIPE_SECRET_KEY: "sk_test_key_commander", STRIPE_API_URL: stripe.url, RATE_LIMIT_IP: "40" } });
});
afterAll(async () => {
  await app?.stop();
  await stripe?.stop();
});

const uniqEmail = (p: string) => `${p}-${crypto.randomBytes(4).toString("hex")}@example.com`;

async function catalog(opts: { planExternalIds?: string[]; productExternalIds?: string[]; cooldownDays?: number } = {}) {
  const product = await makeProduct(app.database.db, { name: "Signal Bot", externalIds: opts.productExternalIds ?? [] });
  const plan = await makePlan(app.database.db, {
    productId: product.id,
    name: "Pro tier",
    seats: 3,
    resetCooldownDays: opts.cooldownDays ?? 30,
    externalIds: opts.planExternalIds ?? [],
  });
  return { product, plan };
}

async function activate(key: string, fingerprint: string) {
  const res = await app.post("/api/v1/licenses/activate", { key, fingerprint });
  expect(res.status).toBe(201);
}

describe("auth", () => {
  it("answers 401 without the key or with a wrong one, on every route", async () => {
    const routes: [string, string, unknown][] = [
      ["GET", "/api/v1/internal/user-entitlements/some-user", undefined],
      ["POST", "/api/v1/internal/licenses/claim-by-email", { supabase_user_id: "u", email: "a@example.com" }],
      ["POST", "/api/v1/internal/users/public/reset-activations", { license_key: "x", email: "a@example.com" }],
      ["POST", "/api/v1/internal/licenses/reset-activations-by-user-id", { supabase_user_id: "u" }],
      ["POST", "/api/v1/report-website-error", { product_id: "Website", error_summary: "x" }],
    ];
    for (const [method, route, body] of routes) {
      for (const key of [null, "wrong-key-0123456789abcdef", `${KEY}x`]) {
        const res = method === "GET" ? await app.get(route, headers(key)) : await app.post(route, body, headers(key));
        expect([route, res.status]).toEqual([route, 401]);
        expect(typeof res.body.detail).toBe("string");
      }
    }
  });
});

describe("claim-by-email and user-entitlements", () => {
  it("links every license bought with the email (idempotent) and lists them in the template's shape", async () => {
    const email = uniqEmail("claim");
    const userId = crypto.randomUUID();
    const { plan } = await catalog({ planExternalIds: ["prod_SignalBotPro", "price_123"], productExternalIds: ["signal-bot"] });
    const customer = await makeCustomer(app.database.db, email);
    const first = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id, maxActivations: 3 });
    const bare = await catalog();
    const second = await makeLicense(app.database.db, { planId: bare.plan.id, customerId: customer.id, expiresAt: new Date("2040-01-01T00:00:00Z") });
    await app.database.db.update(licenses).set({ status: "suspended" }).where(eq(licenses.id, second.license.id));

    // Before the claim the user has nothing.
    const before = await app.get(`/api/v1/internal/user-entitlements/${userId}`, headers());
    expect(before).toMatchObject({ status: 200, body: [] });

    const claim = () => app.post("/api/v1/internal/licenses/claim-by-email", { supabase_user_id: userId, email: email.toUpperCase() }, { ...headers(), "Content-Type": "application/json" });
    expect(await claim()).toMatchObject({ status: 200, body: { claimed: 2 } });
    expect(await claim()).toMatchObject({ status: 200, body: { claimed: 2 } });
    const audits = await app.database.db.execute(sql`select count(*)::int as n from audit_log where action = 'customer.external_user_linked' and subject_id = ${customer.id}`);
    expect(audits.rows[0]).toEqual({ n: 1 });

    const res = await app.get(`/api/v1/internal/user-entitlements/${userId}`, headers());
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(2);
    for (const e of res.body) expect(isLMEntitlement(e)).toBe(true);
    const byKey = new Map(res.body.map((e: { license_key: string }) => [e.license_key, e]));
    expect(byKey.get(first.key)).toEqual({
      license_key: first.key,
      status: "active",
      product_identifier: "prod_SignalBotPro",
      tier_identifier: "prod_SignalBotPro",
      product_display_name: "Signal Bot",
      tier_display_name: "Pro tier",
      renews_at: null,
      trial_ends_at: null,
      quantity: 3,
      last_reset_at: null,
      next_allowed_reset_at: null,
      reset_cooldown_seconds: 0,
    });
    expect(byKey.get(second.key)).toMatchObject({
      status: "blocked",
      product_identifier: bare.product.slug,
      tier_identifier: bare.plan.slug,
    });

    // An email nobody bought with claims nothing.
    const none = await app.post("/api/v1/internal/licenses/claim-by-email", { supabase_user_id: userId, email: uniqEmail("nobody") }, headers());
    expect(none).toMatchObject({ status: 200, body: { claimed: 0 } });
  });

  it("maps trials and expired licenses; the product's external id when the plan has none", async () => {
    const email = uniqEmail("states");
    const userId = crypto.randomUUID();
    const { plan } = await catalog({ productExternalIds: ["signal-lynx-bot"] });
    const customer = await makeCustomer(app.database.db, email);
    const trial = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id });
    const trialEnds = new Date(Date.now() + 5 * 86_400_000);
    await app.database.db.update(licenses).set({ trialEndsAt: trialEnds }).where(eq(licenses.id, trial.license.id));
    const lapsed = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id, expiresAt: new Date("2020-01-01T00:00:00Z") });
    const renewing = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id, expiresAt: new Date("2039-01-01T00:00:00Z") });
    await app.database.db.update(licenses).set({ autoRenews: true }).where(eq(licenses.id, renewing.license.id));
    await app.post("/api/v1/internal/licenses/claim-by-email", { supabase_user_id: userId, email }, headers());
    const res = await app.get(`/api/v1/internal/user-entitlements/${encodeURIComponent(userId)}`, headers());
    const byKey = new Map(res.body.map((e: { license_key: string }) => [e.license_key, e]));
    expect(byKey.get(trial.key)).toMatchObject({ status: "trial", trial_ends_at: trialEnds.toISOString(), product_identifier: "signal-lynx-bot" });
    expect(byKey.get(lapsed.key)).toMatchObject({ status: "inactive" });
    expect(byKey.get(renewing.key)).toMatchObject({ status: "active", renews_at: "2039-01-01T00:00:00.000Z" });
  });

  it("refuses a bad body with a 4xx and a detail", async () => {
    const bad = await app.post("/api/v1/internal/licenses/claim-by-email", { supabase_user_id: "u", email: "not-an-email" }, headers());
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toMatch(/email/);
    const notJson = await app.post("/api/v1/internal/licenses/claim-by-email", "{", headers());
    expect(notJson.status).toBe(400);
    expect(typeof notJson.body.detail).toBe("string");
  });
});

describe("public reset-activations", () => {
  it("resets when the key is that email's, then refuses inside the cooldown with 429 and the next allowed time", async () => {
    const email = uniqEmail("reset");
    const { plan } = await catalog({ cooldownDays: 30 });
    const customer = await makeCustomer(app.database.db, email);
    const { license, key } = await makeLicense(app.database.db, { planId: plan.id, customerId: customer.id });
    await activate(key, "pc-1");
    await activate(key, "pc-2");
    const route = "/api/v1/internal/users/public/reset-activations";
    const send = (body: unknown) => app.post(route, body, { ...headers(), "Content-Type": "application/json" });

    const ok = await send({ license_key: key, email });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "success", message: "2 devices were deactivated." });
    const next = new Date(ok.body.next_allowed_reset_at).getTime();
    expect(Math.abs(next - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
    const [row] = await app.database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row!.lastResetAt).not.toBeNull();
    expect((await app.database.db.execute(sql`select count(*)::int as n from activations where license_id = ${license.id}`)).rows[0]).toEqual({ n: 0 });

    await activate(key, "pc-3");
    const again = await send({ license_key: key.toLowerCase(), email: email.toUpperCase() });
    expect(again.status).toBe(429);
    expect(again.body.next_allowed_reset_at).toBe(ok.body.next_allowed_reset_at);
    expect(again.body.retry_after_seconds).toBeGreaterThan(29 * 86_400);
    expect(typeof again.body.detail).toBe("string");
    expect(again.headers.get("retry-after")).toBe(String(again.body.retry_after_seconds));

    // The entitlement shows the cooldown.
    const userId = crypto.randomUUID();
    await app.post("/api/v1/internal/licenses/claim-by-email", { supabase_user_id: userId, email }, headers());
    const [ent] = (await app.get(`/api/v1/internal/user-entitlements/${userId}`, headers())).body;
    expect(ent).toMatchObject({ next_allowed_reset_at: ok.body.next_allowed_reset_at, last_reset_at: row!.lastResetAt!.toISOString() });
    expect(ent.reset_cooldown_seconds).toBeGreaterThan(29 * 86_400);
  });

  it("answers 404 { detail } for a key that is not that email's, or no key at all", async () => {
    const owner = await makeCustomer(app.database.db, uniqEmail("owner"));
    const { key } = await makeLicense(app.database.db, { customerId: owner.id });
    await activate(key, "owner-pc");
    const route = "/api/v1/internal/users/public/reset-activations";
    for (const body of [
      { license_key: key, email: uniqEmail("someone-else") },
      { license_key: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", email: owner.email },
      { license_key: "not a key", email: owner.email },
    ]) {
      const res = await app.post(route, body, headers());
      expect(res.status).toBe(404);
      expect(Object.keys(res.body)).toContain("detail");
    }
    expect((await app.database.db.execute(sql`select count(*)::int as n from activations a join licenses l on l.id = a.license_id where l.customer_id = ${owner.id}`)).rows[0]).toEqual({ n: 1 });
  });
});

describe("reset-activations-by-user-id", () => {
  it("resets every license of the user (the storefront admin's tool: no cooldown) and says how many", async () => {
    const email = uniqEmail("byuser");
    const userId = crypto.randomUUID();
    const customer = await makeCustomer(app.database.db, email);
    const a = await makeLicense(app.database.db, { customerId: customer.id, maxActivations: 2 });
    const b = await makeLicense(app.database.db, { customerId: customer.id, maxActivations: 2 });
    await activate(a.key, "a1");
    await activate(b.key, "b1");
    await app.post("/api/v1/internal/licenses/claim-by-email", { supabase_user_id: userId, email }, headers());
    const route = "/api/v1/internal/licenses/reset-activations-by-user-id";
    expect(await app.post(route, { supabase_user_id: userId }, headers())).toMatchObject({ status: 200, body: { status: "success", reset: 2 } });
    await activate(a.key, "a2");
    expect(await app.post(route, { supabase_user_id: userId }, headers())).toMatchObject({ status: 200, body: { status: "success", reset: 2 } });
    expect((await app.database.db.execute(sql`select count(*)::int as n from activations a join licenses l on l.id = a.license_id where l.customer_id = ${customer.id}`)).rows[0]).toEqual({ n: 0 });
    expect(await app.post(route, { supabase_user_id: "nobody-at-all" }, headers())).toMatchObject({ status: 200, body: { status: "success", reset: 0 } });
    expect((await app.post(route, {}, headers())).status).toBe(422);
  });
});

describe("report-website-error", () => {
  it("stores the template's payload (202), bounded, and refuses an oversized body", async () => {
    const summary = `TypeError ${crypto.randomUUID()}`;
    const payload = {
      product_id: "Website",
      user_identifier: "b7e0 (someone@example.com)",
      error_summary: summary,
      error_details: `Error: boom\n    at load (+page.ts:1:1)\n${"x".repeat(30_000)}`,
    };
    const res = await app.post("/api/v1/report-website-error", payload, { "Content-Type": "application/json", "X-Internal-API-Key": KEY, "ngrok-skip-browser-warning": "true" });
    expect(res.status).toBe(202);
    const [row] = await app.database.db.select().from(websiteErrors).where(eq(websiteErrors.errorSummary, summary));
    expect(row).toMatchObject({ productId: "Website", userIdentifier: payload.user_identifier, clientVersion: null });
    expect(row!.errorDetails!.length).toBe(20_000);

    const withVersion = await app.post("/api/v1/report-website-error", { product_id: "Desktop", client_version: "2.1.0", error_summary: "x\u0000y" }, headers());
    expect(withVersion.status).toBe(202);
    const huge = await app.post("/api/v1/report-website-error", { product_id: "Website", error_summary: "big", error_details: "y".repeat(70_000) }, headers());
    expect(huge.status).toBe(413);
    expect(typeof huge.body.detail).toBe("string");
    expect((await app.post("/api/v1/report-website-error", { product_id: "Website" }, headers())).status).toBe(422);
  });
});

describe("checkout metadata.supabase_user_id", () => {
  it("links the buyer's licenses to that user in the transaction that issues them", async () => {
    const priceId = randomId("price");
    const { plan } = await catalog({ planExternalIds: ["prod_TemplatePro"] });
    await app.database.db.execute(sql`insert into plan_prices (stripe_price_id, plan_id) values (${priceId}, ${plan.id})`);
    const userId = crypto.randomUUID();
    const email = uniqEmail("checkout");
    const session = stripe.addCheckoutSession({ email, metadata: { supabase_user_id: userId } }, [{ priceId, quantity: 1 }]);
    const { body, headers: h } = signedWebhook(stripeEvent("checkout.session.completed", session));
    expect((await app.post("/api/stripe/webhook", body, h)).status).toBe(200);
    const entitlements = await eventually(async () => {
      const res = await app.get(`/api/v1/internal/user-entitlements/${userId}`, headers());
      return res.body.length === 1 ? res.body : undefined;
    }, 30_000, "the checkout's license listed for the user");
    expect(entitlements[0]).toMatchObject({ status: "active", product_identifier: "prod_TemplatePro", quantity: 3 });
    const [c] = await app.database.db.select().from(customers).where(sql`lower(${customers.email}) = lower(${email})`);
    expect(c!.externalUserId).toBe(userId);
  });
});

describe("failed attempts", () => {
  // Last: it locks this test's address out.
  it("are rate limited per address, and a locked-out address is refused before its key is compared", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await app.get("/api/v1/internal/user-entitlements/x", headers("wrong-key-0123456789abcdef"))).status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(40);
    expect(statuses.at(-1)).toBe(429);
    const right = await app.get("/api/v1/internal/user-entitlements/x", headers());
    expect(right.status).toBe(429);
    expect(right.body.retry_after_seconds).toBeGreaterThan(0);
  });
});

describe("INTERNAL_API_KEY unset", () => {
  it("every internal route answers 404", async () => {
    const bare = await startApp();
    try {
      expect((await bare.get("/api/v1/internal/user-entitlements/u", headers())).status).toBe(404);
      for (const route of [
        "/api/v1/internal/licenses/claim-by-email",
        "/api/v1/internal/users/public/reset-activations",
        "/api/v1/internal/licenses/reset-activations-by-user-id",
        "/api/v1/report-website-error",
      ]) {
        expect([route, (await bare.post(route, {}, headers())).status]).toEqual([route, 404]);
      }
    } finally {
      await bare.stop();
    }
  });
});
