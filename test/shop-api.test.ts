import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { customers, emailOutbox, licenses, payments, stripeEvents, trialFingerprints } from "@/server/db/schema";
import { SYSTEM } from "@/server/domain/audit/record";
import { saveShopSettings, DEFAULT_SHOP_SETTINGS, contrastRatio, textOn, accentOnWhite, isDisposableEmail } from "@/server/domain/shop/settings";
import { readCheckoutProof, checkoutProofCookie } from "@/server/domain/shop/checkout";
import { resetEnvCache } from "@/server/env";
import { TEST_ADMIN_TOKEN, eventually, startApp, type TestApp } from "./helpers/app";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";
import { browserless } from "./helpers/sign-in";
import { appCode } from "./helpers/trpc";

// The storefront against the real built app and the fake Stripe: checkout sessions as our route asks for them,
// the success page's session route in every order of webhook and browser (and with no webhook at all), who may
// see a session's keys, trials (one per email, one per machine, refused domains, converted by a purchase), and
// the portal's billing for one customer and not another.

let app: TestApp;
let fake: FakeStripe;
let catcher: SmtpCatcher;
let oneTime: string;
let monthly: string;
let productId: string;
let productSlug: string;
let planSlug: string;
let trialPlanSlug: string;

beforeAll(async () => {
  fake = await startFakeStripe();
  catcher = await startSmtpCatcher();
  app = await startApp({
    env: { STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_URL: fake.url, SMTP_URL: catcher.url, CHECKOUT_HEAL_AFTER_SECONDS: "2", PRICE_CACHE_TTL_SECONDS: "1" },
  });
  // The portal's procedures run in this process (server-side callers): they reach the same fake.
  process.env.STRIPE_SECRET_KEY = "sk_test_x";
  process.env.STRIPE_API_URL = fake.url;
  process.env.APP_URL = app.url;
  resetEnvCache();
  oneTime = fake.addPrice({ unitAmount: 4900 }).id;
  monthly = fake.addPrice({ unitAmount: 900, interval: "month" }).id;
  const product = await makeProduct(app.database.db, { name: "Acme Editor" });
  productId = product.id;
  productSlug = product.slug;
  const plan = await makePlan(app.database.db, { productId, name: "Pro", seats: 2, entitlements: ["export-pdf"], stripePriceIds: [oneTime, monthly] });
  planSlug = plan.slug;
  const trialPlan = await makePlan(app.database.db, { productId, name: "Trial", seats: 1, trialDays: 14 });
  trialPlanSlug = trialPlan.slug;
  await app.database.db.transaction((tx) =>
    saveShopSettings(tx, SYSTEM, { ...DEFAULT_SHOP_SETTINGS, name: "Acme Shop", planOptions: { [plan.id]: { automaticTax: true, promotionCodes: true, description: "For pros.", listed: true } } }),
  );
});
afterAll(async () => {
  await app?.stop();
  await fake?.stop();
  await catcher?.stop();
});

const db = () => app.database.db;
const cookieOf = (headers: Headers) => headers.getSetCookie().map((c) => c.split(";")[0]!).join("; ");
const postWebhook = (event: Record<string, unknown>) => {
  const { body, headers } = signedWebhook(event);
  return app.post("/api/stripe/webhook", body, headers);
};
async function checkout(price = oneTime, email?: string) {
  const res = await app.post("/api/v1/checkout", { price, ...(email ? { email } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ...(res.body as { url: string; sessionId: string }), cookie: cookieOf(res.headers) };
}
const sessionStatus = (id: string, cookie?: string) => app.get(`/api/v1/checkout/sessions/${id}`, cookie ? { cookie } : {});
// Trial requests are limited per client address: each comes from its own loopback address, as separate people
// would (the limit itself is tested at the end, from one address).
let nextAddress = 10;
async function askTrial(body: Record<string, unknown>, localAddress = `127.0.0.${nextAddress++}`) {
  const res = await browserless(app.url, { localAddress }).request("/api/v1/trials", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
const completedEvent = (sessionId: string) => stripeEvent("checkout.session.completed", fake.sessions.get(sessionId)!);

describe("checkout", () => {
  it("asks Stripe for a session in the price's mode, with the plan, the shop's options and our return pages", async () => {
    const a = await checkout(oneTime, "someone@example.com");
    expect(a.url).toBe(`${fake.url}/pay/${a.sessionId}`);
    const asked = fake.createdSessions.at(-1)!;
    expect(asked).toMatchObject({
      mode: "payment",
      line_items: [{ price: oneTime, quantity: "1" }],
      customer_email: "someone@example.com",
      customer_creation: "always",
      success_url: `${app.url}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${app.url}/pricing?canceled=1`,
      metadata: { keystead_plan: planSlug },
      automatic_tax: { enabled: "true" },
      allow_promotion_codes: "true",
    });
    await checkout(monthly);
    expect(fake.createdSessions.at(-1)!).toMatchObject({ mode: "subscription", subscription_data: { metadata: { keystead_plan: planSlug } } });
  });

  it("answers a form post with 303 to Stripe's page and a proof cookie; unknown prices are 404", async () => {
    const res = await fetch(`${app.url}/api/v1/checkout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ price: oneTime }),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(new RegExp(`^${fake.url}/pay/cs_`));
    expect(res.headers.getSetCookie().join()).toMatch(/keystead\.checkout=.+HttpOnly; SameSite=Lax/);
    const unknown = await app.post("/api/v1/checkout", { price: "price_nobody_sells_this" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NOT_FOUND");
    const bad = await app.post("/api/v1/checkout", { price: "" });
    expect(bad.status).toBe(400);
  });
});

describe("the success page's session route", () => {
  it("browser first, then the webhook: processing, then the key, for the buyer only", async () => {
    const s = await checkout();
    const first = await sessionStatus(s.sessionId, s.cookie);
    expect(first.body).toMatchObject({ status: "processing", licenses: [] });
    fake.pay(s.sessionId, "first@example.com");
    expect((await postWebhook(completedEvent(s.sessionId))).status).toBe(200);
    const done = await eventually(async () => {
      const r = await sessionStatus(s.sessionId, s.cookie);
      return r.body.status === "complete" ? r.body : null;
    }, 20_000, "the license");
    expect(done.visible).toBe(true);
    expect(done.email).toBe("first@example.com");
    expect(done.licenses).toHaveLength(1);
    expect(done.licenses[0]).toMatchObject({ plan: planSlug, productName: "Acme Editor", maxActivations: 2 });
    expect(done.licenses[0].key).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
    // The session id alone (another browser, no cookie) shows nothing.
    const stranger = await sessionStatus(s.sessionId);
    expect(stranger.body).toEqual({ status: "complete", licenses: [], visible: false, email: null });
    // Nor does another buyer's proof cookie.
    const other = await checkout();
    expect((await sessionStatus(s.sessionId, other.cookie)).body.licenses).toEqual([]);
  });

  it("webhook first, then the browser: complete at the first look", async () => {
    const s = await checkout();
    fake.pay(s.sessionId, "second@example.com");
    const event = completedEvent(s.sessionId);
    await postWebhook(event);
    await eventually(async () => (await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, s.sessionId)))[0], 20_000, "issued");
    const r = await sessionStatus(s.sessionId, s.cookie);
    expect(r.body.status).toBe("complete");
    expect(r.body.licenses).toHaveLength(1);
  });

  it("lists what the new license may download, each through a signed link that serves the file", async () => {
    const form = new FormData();
    form.set("product", productSlug);
    form.set("version", "1.0.0");
    form.set("channel", "stable");
    form.set("file", new Blob(["the editor's build"]), "editor-1.0.0.zip");
    const upload = await fetch(`${app.url}/api/v1/admin/releases`, { method: "POST", headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: form });
    expect(upload.status, await upload.clone().text()).toBe(201);

    const s = await checkout();
    fake.pay(s.sessionId, "downloader@example.com");
    await postWebhook(completedEvent(s.sessionId));
    await eventually(async () => (await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, s.sessionId)))[0], 20_000, "issued");
    const r = await sessionStatus(s.sessionId, s.cookie);
    expect(r.body.licenses).toHaveLength(1);
    const downloads = r.body.licenses[0].downloads as { release: { version: string }; url: string }[];
    expect(downloads.map((d) => d.release.version)).toEqual(["1.0.0"]);
    const file = await fetch(new URL(downloads[0]!.url, app.url));
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("the editor's build");
    // A stranger's view of the same session lists nothing, downloads included.
    expect((await sessionStatus(s.sessionId)).body.licenses).toEqual([]);
  });

  it("webhook never: after CHECKOUT_HEAL_AFTER_SECONDS the route reads Stripe and issues; a late webhook issues nothing twice", async () => {
    const s = await checkout();
    fake.pay(s.sessionId, "third@example.com");
    expect((await sessionStatus(s.sessionId, s.cookie)).body.status).toBe("processing");
    const healed = await eventually(async () => {
      const r = await sessionStatus(s.sessionId, s.cookie);
      return r.body.status === "complete" ? r.body : null;
    }, 20_000, "healing");
    expect(healed.licenses).toHaveLength(1);
    const event = completedEvent(s.sessionId);
    await postWebhook(event);
    await eventually(async () => {
      const [row] = await db().select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
      return row && row.status !== "pending" ? row : null;
    }, 20_000, "the late event settled");
    const rows = await db().select().from(licenses).where(eq(licenses.stripeCheckoutSessionId, s.sessionId));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(healed.licenses[0].id);
    const mails = await db().select().from(emailOutbox).where(and(eq(emailOutbox.template, "license-issued"), eq(emailOutbox.to, "third@example.com")));
    expect(mails).toHaveLength(1);
  });

  it("a tampered or foreign cookie proves nothing; a proof older than its window is dropped", () => {
    const cookie = checkoutProofCookie(null, "cs_test_abc").split(";")[0]!.split("=").slice(1).join("=");
    expect([...readCheckoutProof(cookie).keys()]).toEqual(["cs_test_abc"]);
    const [payload, sig] = cookie.split(".");
    const forged = Buffer.from(JSON.stringify([["cs_test_other", Math.floor(Date.now() / 1000)]])).toString("base64url");
    expect(readCheckoutProof(`${forged}.${sig}`).size).toBe(0);
    expect(readCheckoutProof(`${payload}.x${sig!.slice(1)}`).size).toBe(0);
  });
});

describe("trials", () => {
  const linkIn = (text: string) => /\/trial\/confirm\?token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  async function startTrial(email: string) {
    const before = catcher.messages.length;
    const r = await askTrial({ plan: trialPlanSlug, email });
    expect(r.status).toBe(202);
    const message = await eventually(async () => catcher.messages.slice(before).find((m) => m.to.includes(email)), 20_000, "the trial link");
    const token = linkIn(message.text)!;
    expect(token).toBeTruthy();
    const confirmed = await app.post("/api/v1/trials/confirm", { token });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    return { token, ...(confirmed.body as { license: { id: string; key: string; trialEndsAt: string }; email: string }) };
  }

  it("confirming the emailed link issues a trial license (active until its trial end) and emails its key", async () => {
    const t = await startTrial("trier@example.com");
    const [row] = await db().select().from(licenses).where(eq(licenses.id, t.license.id));
    expect(row).toMatchObject({ status: "active", source: "trial" });
    expect(row!.trialEndsAt?.toISOString()).toBe(t.license.trialEndsAt);
    expect(row!.expiresAt?.toISOString()).toBe(t.license.trialEndsAt);
    expect(Math.round((row!.trialEndsAt!.getTime() - Date.now()) / 86_400_000)).toBe(14);
    const keyMail = await eventually(async () => catcher.messages.find((m) => m.to.includes("trier@example.com") && m.text.includes(t.license.key)), 20_000, "the key email");
    expect(keyMail).toBeTruthy();
    // The same link again shows the same license; nothing new is issued.
    const again = await app.post("/api/v1/trials/confirm", { token: t.token });
    expect(again.body.license.id).toBe(t.license.id);
  });

  it("a second request for the same email and product answers the same 202 and sends nothing", async () => {
    const first = await startTrial("twice@example.com");
    // The first trial's key email, before counting what the second request sends.
    await eventually(async () => catcher.messages.some((m) => m.to.includes("twice@example.com") && m.text.includes(first.license.key)), 20_000, "the key email");
    const before = catcher.messages.length;
    const r = await askTrial({ plan: trialPlanSlug, email: "TWICE@example.com" });
    expect(r.status).toBe(202);
    const fresh = await askTrial({ plan: trialPlanSlug, email: "never-seen@example.com" });
    expect(r.body).toEqual(fresh.body);
    await eventually(async () => catcher.messages.slice(before).some((m) => m.to.includes("never-seen@example.com")), 20_000, "the new address's link");
    expect(catcher.messages.slice(before).filter((m) => m.to.some((t) => t.toLowerCase() === "twice@example.com"))).toHaveLength(0);
  });

  it("refuses disposable domains from the operator's list, and plans without a trial", async () => {
    const r = await askTrial({ plan: trialPlanSlug, email: "x@mailinator.com" });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe("DISPOSABLE_EMAIL");
    const none = await askTrial({ plan: planSlug, email: "x@example.com" });
    expect(none.status).toBe(404);
    expect(isDisposableEmail("a@sub.yopmail.com", ["yopmail.com"])).toBe(true);
    expect(isDisposableEmail("a@notyopmail.com", ["yopmail.com"])).toBe(false);
  });

  it("one trial per machine: a second trial license on the same fingerprint gets 403 TRIAL_USED; paid licenses are not checked", async () => {
    const a = await startTrial("machine-a@example.com");
    const b = await startTrial("machine-b@example.com");
    const fp = "fingerprint-shared-machine-0001";
    const first = await app.post("/api/v1/licenses/activate", { key: a.license.key, fingerprint: fp });
    expect(first.status).toBe(201);
    // The same trial again on the same machine is its own activation back.
    expect((await app.post("/api/v1/licenses/activate", { key: a.license.key, fingerprint: fp })).status).toBe(200);
    const second = await app.post("/api/v1/licenses/activate", { key: b.license.key, fingerprint: fp });
    expect(second.status).toBe(403);
    expect(second.body.error.code).toBe("TRIAL_USED");
    expect((await app.post("/api/v1/licenses/activate", { key: b.license.key, fingerprint: "another-machine-0002" })).status).toBe(201);
    const paid = await makeLicense(db(), { planId: (await makePlan(db(), { productId })).id });
    expect((await app.post("/api/v1/licenses/activate", { key: paid.key, fingerprint: fp })).status).toBe(201);
    expect(await db().select().from(trialFingerprints).where(eq(trialFingerprints.licenseId, paid.license.id))).toHaveLength(0);
  });

  it("buying the product moves the same key to the paid plan", async () => {
    const t = await startTrial("converts@example.com");
    const s = await checkout(oneTime, "converts@example.com");
    fake.pay(s.sessionId, "converts@example.com");
    await postWebhook(completedEvent(s.sessionId));
    const done = await eventually(async () => {
      const r = await sessionStatus(s.sessionId, s.cookie);
      return r.body.status === "complete" ? r.body : null;
    }, 20_000, "the conversion");
    expect(done.licenses).toHaveLength(1);
    expect(done.licenses[0].id).toBe(t.license.id);
    expect(done.licenses[0].key).toBe(t.license.key);
    const [row] = await db().select().from(licenses).where(eq(licenses.id, t.license.id));
    expect(row).toMatchObject({ source: "stripe", trialEndsAt: null, maxActivations: 2, stripeCheckoutSessionId: s.sessionId });
  });
});

describe("portal billing", () => {
  const session = (email: string, customerId: string): AppSession => ({ user: { id: crypto.randomUUID(), email, isAdmin: false }, customerId });
  const caller = (s: AppSession) => createCaller({ db: db(), session: s, headers: new Headers() });

  it("opens Stripe's portal for the customer's own Stripe customer only, and lists only their payments", async () => {
    const s = await checkout(oneTime, "payer@example.com");
    fake.pay(s.sessionId, "payer@example.com");
    await postWebhook(completedEvent(s.sessionId));
    await eventually(async () => (await db().select().from(payments).where(eq(payments.stripeCheckoutSessionId, s.sessionId)))[0], 20_000, "the payment");
    const [payer] = await db().select().from(customers).where(eq(customers.email, "payer@example.com"));
    const other = await makeCustomer(db(), "no-stripe@example.com");

    const mine = caller(session(payer!.email, payer!.id));
    const billing = await mine.portal.billing();
    expect(billing.canManage).toBe(true);
    expect(billing.payments.map((p) => p.amount)).toEqual([4900]);
    const opened = await mine.portal.manageBilling();
    expect(opened.url).toBe(`${fake.url}/billing/${payer!.stripeCustomerId}`);
    expect(fake.portalSessions.at(-1)).toMatchObject({ customer: payer!.stripeCustomerId, return_url: `${app.url}/portal` });

    // An invoice of the payer's license (with Stripe's hosted page) and one of another customer's.
    const [payerLicense] = await db().select().from(licenses).where(eq(licenses.customerId, payer!.id));
    const stranger = await makeLicense(db(), { customerId: other.id });
    const invoice = (licenseId: string, id: string) => ({
      kind: "subscription_invoice" as const,
      stripeInvoiceId: id,
      licenseId,
      status: "paid",
      amount: 900,
      currency: "usd",
      hostedInvoiceUrl: `https://invoice.stripe.com/i/${id}`,
      observedAt: new Date(),
    });
    await db().insert(payments).values([invoice(payerLicense!.id, "in_test_payer"), invoice(stranger.license.id, "in_test_other")]);
    const withInvoice = await mine.portal.billing();
    expect(withInvoice.payments.map((p) => p.hostedInvoiceUrl ?? "none").sort()).toEqual(["https://invoice.stripe.com/i/in_test_payer", "none"]);

    const theirs = caller(session(other.email, other.id));
    const theirBilling = await theirs.portal.billing();
    expect(theirBilling.canManage).toBe(false);
    expect(theirBilling.payments.map((p) => p.hostedInvoiceUrl)).toEqual(["https://invoice.stripe.com/i/in_test_other"]);
    const asked = fake.portalSessions.length;
    expect(await appCode(theirs.portal.manageBilling())).toBe("NOT_FOUND");
    expect(fake.portalSessions.length).toBe(asked);
  });
});

describe("the pricing page", () => {
  it("shows plans with Stripe's prices, and still renders, marked, when Stripe is down", async () => {
    const page = await app.get("/pricing");
    expect(page.status).toBe(200);
    expect(page.body).toContain("Acme Shop");
    expect(page.body).toContain("$49");
    expect(page.body).toContain("$9");
    expect(page.body).toContain("For pros.");
    const unseen = fake.addPrice({ unitAmount: 12300 }).id;
    await makePlan(db(), { productId, name: "Team", seats: 10, stripePriceIds: [unseen] });
    await new Promise((r) => setTimeout(r, 1100)); // past PRICE_CACHE_TTL_SECONDS
    fake.setDown("500");
    try {
      const down = await app.get("/pricing");
      expect(down.status).toBe(200);
      expect(down.body).toContain("$49"); // the last known price
      expect(down.body).toContain("Price unavailable right now"); // never read
      expect(down.body).toContain("could not be checked");
    } finally {
      fake.setDown(false);
    }
  });

  it("picks readable text on the accent", () => {
    for (const accent of ["#4f46e5", "#facc15", "#000000", "#ffffff", "#22c55e"]) {
      expect(contrastRatio(accent, textOn(accent))).toBeGreaterThanOrEqual(4.5 - 0.6);
      expect(contrastRatio(accentOnWhite(accent), "#ffffff")).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe("limits", () => {
  it("trial requests are rate limited by client address", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await askTrial({ plan: trialPlanSlug, email: `flood-${i}@example.com` }, "127.0.0.250")).status);
    expect(codes).toContain(429);
  });
});
