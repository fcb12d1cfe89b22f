import crypto from "node:crypto";
import { eq, inArray } from "drizzle-orm";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, customers, stripeEvents, webhookDeliveries, webhookEndpoints } from "@/server/db/schema";
import { changeCustomerEmail } from "@/server/domain/admin/customers";
import { expireLicenses } from "@/server/domain/sweeps/expire";
import { WEBHOOK_EVENT_TYPE_LIST } from "@/server/domain/webhooks/event-types";
import { eventually, startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { invoiceObject, randomId, signedWebhook, startFakeStripe, stripeEvent, subscriptionObject, type FakeStripe } from "./helpers/fake-stripe";
import { day, subscriptionLifecycle } from "./helpers/stripe-scenarios";
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from "./helpers/webhook-receiver";

/**
 * Outgoing webhooks through the real, built app: endpoints made with the management API, every event type caused
 * by its real trigger (the admin API, the public license routes, Stripe's webhook processed by the app's worker,
 * the expiry sweep), delivered by the app's own worker to a real HTTP receiver, and each request verified with the
 * standardwebhooks library and by the contract's formula computed here.
 */

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const LICENSE_KEYS = ["id", "status", "product", "plan", "expiresAt", "entitlements", "maxActivations", "activations", "customer"].sort();
const ACTIVATION_KEYS = ["id", "fingerprint", "name", "platform", "createdAt", "lastSeenAt"].sort();
const KEY_PATTERN = /[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}/;

/** The contract's signature, computed by hand: base64 HMAC-SHA256 over "<id>.<timestamp>.<body>". */
function contractSignature(secret: string, r: ReceivedWebhook) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return crypto.createHmac("sha256", key).update(`${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.${r.body}`).digest("base64");
}

function expectSignedBy(secret: string, r: ReceivedWebhook) {
  // The library's verify: headers, signature, timestamp tolerance; it returns the parsed payload.
  expect(new Webhook(secret).verify(r.body, r.headers)).toEqual(r.json);
  expect(r.headers["webhook-signature"]!.split(" ")).toContain(`v1,${contractSignature(secret, r)}`);
  expect(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
}

describe("outgoing webhooks through the app", () => {
  let app: TestApp;
  let fake: FakeStripe;
  let receiver: WebhookReceiver;
  let flaky: WebhookReceiver;

  beforeAll(async () => {
    fake = await startFakeStripe();
    receiver = await startWebhookReceiver();
    flaky = await startWebhookReceiver();
    app = await startApp({ env: { STRIPE_SECRET_KEY: "sk_test_x", STRIPE_API_URL: fake.url, WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    await receiver?.stop();
    await flaky?.stop();
  });

  const db = () => app.database.db;
  const call = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(app.url + route, {
      method,
      headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("creates an endpoint with a whsec_ secret shown once, lists it without, and refuses bad input with a code", async () => {
    expect((await app.post("/api/v1/admin/webhooks", { url: receiver.url, events: ["license.created"] })).status).toBe(401);
    const made = await app.post("/api/v1/admin/webhooks", { url: `${receiver.url}/once`, events: ["license.created"], description: "one" }, auth);
    expect(made.status).toBe(201);
    expect(made.body.webhook).toMatchObject({ url: `${receiver.url}/once`, events: ["license.created"], enabled: true });
    expect(made.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(made.body.secret.slice(6), "base64")).toHaveLength(32);

    const listed = await app.get("/api/v1/admin/webhooks", auth);
    expect(listed.status).toBe(200);
    const mine = listed.body.data.find((w: { id: string }) => w.id === made.body.webhook.id);
    expect(mine).toMatchObject({ id: made.body.webhook.id, enabled: true });
    expect(JSON.stringify(listed.body)).not.toContain(made.body.secret.slice(6));
    // Sealed at rest: the row holds no trace of the secret.
    const [row] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, made.body.webhook.id));
    expect(row!.secretCiphertext).toMatch(/^v1\./);
    expect(row!.secretCiphertext).not.toContain(made.body.secret.slice(6, 20));

    for (const bad of [
      { url: receiver.url, events: ["license.exploded"] },
      { url: receiver.url, events: [] },
      { url: "ftp://example.com/x", events: ["license.created"] },
      { url: "http://user:pw@example.com/x", events: ["license.created"] },
      { url: receiver.url },
    ]) {
      const res = await app.post("/api/v1/admin/webhooks", bad, auth);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
    }
    expect((await call("GET", "/api/v1/admin/webhooks/not-a-uuid/deliveries")).status).toBe(404);
    expect((await call("DELETE", `/api/v1/admin/webhooks/${made.body.webhook.id}`)).body).toEqual({ deleted: true });
    expect((await call("GET", `/api/v1/admin/webhooks/${made.body.webhook.id}`)).status).toBe(404);
  });

  it("delivers every event type from its real trigger, signed so the standardwebhooks library verifies it", async () => {
    const made = await app.post("/api/v1/admin/webhooks", { url: `${receiver.url}/all`, events: WEBHOOK_EVENT_TYPE_LIST }, auth);
    expect(made.status).toBe(201);
    const secret: string = made.body.secret;
    const priceId = randomId("price");
    expect((await app.post("/api/v1/admin/products", { slug: "hooked", name: "Hooked" }, auth)).status).toBe(201);
    const plan = { product: "hooked", slug: "hooked-pro", name: "Pro", seats: 3, durationDays: null, entitlements: ["pro"], stripePriceIds: [priceId], graceDays: 7 };
    expect((await app.post("/api/v1/admin/plans", plan, auth)).status).toBe(201);
    // No grace days: its licenses lapse at their expiry, for the sweep below.
    expect((await app.post("/api/v1/admin/plans", { ...plan, slug: "hooked-team", name: "Team", stripePriceIds: [], graceDays: 0 }, auth)).status).toBe(201);

    // By hand (management API) and by the client software (public routes).
    const issued = await app.post("/api/v1/admin/licenses", { plan: "hooked-pro", email: "ada@example.com" }, auth);
    expect(issued.status).toBe(201);
    const { license, key } = issued.body;
    expect((await app.post("/api/v1/licenses/activate", { key, fingerprint: "ada-laptop", name: "Ada's laptop" })).status).toBe(201);
    expect((await app.post("/api/v1/licenses/deactivate", { key, fingerprint: "ada-laptop" })).status).toBe(200);
    for (const [action, body] of [
      ["suspend", { reason: "chargeback review" }],
      ["reinstate", {}],
      ["change-seats", { seats: 5 }],
      ["extend", { expiresAt: "2040-01-01T00:00:00Z" }],
    ] as const) {
      expect((await app.post(`/api/v1/admin/licenses/${license.id}/${action}`, body, auth)).status, action).toBe(200);
    }
    const rotated = await app.post(`/api/v1/admin/licenses/${license.id}/rotate-key`, {}, auth);
    expect(rotated.status).toBe(200);
    expect((await app.post(`/api/v1/admin/licenses/${license.id}/revoke`, { reason: "fraud" }, auth)).status).toBe(200);

    // The expiry sweep (its real domain function, run here on the app's database; the app's worker delivers).
    const lapsing = await app.post("/api/v1/admin/licenses", { plan: "hooked-team", email: "cy@example.com", expiresAt: new Date(Date.now() + 1000).toISOString() }, auth);
    expect(lapsing.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1100));
    const swept = await expireLicenses(db());
    expect(swept.processed).toBeGreaterThanOrEqual(1);

    // A customer's email corrected (the admin app's tRPC procedure calls this domain function).
    const [ada] = await db().select().from(customers).where(eq(customers.email, "ada@example.com"));
    await db().transaction((tx) => changeCustomerEmail(tx, { type: "admin", id: "owner@example.com" }, ada!.id, { email: "ada.l@example.com" }));

    // Stripe: a subscription bought, renewed, its next payment failed, its cancellation scheduled (processed by the app).
    const s = subscriptionLifecycle(fake, { priceId, ending: "cancel-scheduled" });
    for (const event of s.events) {
      const { body, headers } = signedWebhook(event);
      expect((await app.post("/api/stripe/webhook", body, headers)).status).toBe(200);
      await eventually(async () => {
        const [e] = await db().select().from(stripeEvents).where(eq(stripeEvents.id, event.id as string));
        return e && e.status !== "pending";
      }, 30_000, `Stripe event ${event.type}`);
    }

    // Then it renews: the next period paid, the subscription active again until May (the objects move, as on Stripe).
    const sub = s.events[4]!.data.object as Record<string, any>;
    const renewal = fake.put(
      invoiceObject({
        id: randomId("in"),
        subscription: sub.id,
        subscriptionItem: sub.items.data[0].id,
        customer: sub.customer,
        priceId,
        billingReason: "subscription_cycle",
        periodStart: day("2031-04-01"),
        periodEnd: day("2031-05-01"),
      }),
    );
    fake.put(
      subscriptionObject({
        id: sub.id,
        itemId: sub.items.data[0].id,
        customer: sub.customer,
        priceId,
        status: "active",
        periodStart: day("2031-04-01"),
        periodEnd: day("2031-05-01"),
        cancelAtPeriodEnd: false,
        cancelAt: null,
        canceledAt: null,
        endedAt: null,
        latestInvoice: renewal.id,
      }),
    );
    const paid = stripeEvent("invoice.paid", renewal);
    const signed = signedWebhook(paid);
    expect((await app.post("/api/stripe/webhook", signed.body, signed.headers)).status).toBe(200);
    await eventually(async () => {
      const [e] = await db().select().from(stripeEvents).where(eq(stripeEvents.id, paid.id as string));
      return e && e.status !== "pending";
    }, 30_000, "the renewal to be processed");

    const byType = async (type: string) => (await receiver.waitFor(1, (r) => r.path === "/all" && r.json.type === type, 30_000))[0]!;
    const got = new Map<string, ReceivedWebhook>();
    for (const type of WEBHOOK_EVENT_TYPE_LIST) got.set(type, await byType(type));

    for (const [type, r] of got) {
      expectSignedBy(secret, r);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(Object.keys(r.json).sort()).toEqual(["data", "timestamp", "type"]);
      expect(r.json.type).toBe(type);
      expect(new Date(r.json.timestamp).toISOString()).toBe(r.json.timestamp);
      expect(r.body, `${type} carries no license key`).not.toMatch(KEY_PATTERN);
      if (type === "customer.updated") {
        expect(r.json.data).toMatchObject({ customer: { id: ada!.id, email: "ada.l@example.com" }, previousEmail: "ada@example.com" });
        continue;
      }
      expect(Object.keys(r.json.data.license).sort(), type).toEqual(LICENSE_KEYS);
      expect(Object.keys(r.json.data.license.customer).sort()).toEqual(["email", "id"]);
      if (type.startsWith("activation.")) expect(Object.keys(r.json.data.activation).sort()).toEqual(ACTIVATION_KEYS);
    }
    // What each says, beyond its shape.
    const forLicense = (type: string) => receiver.received.filter((r) => r.json.type === type && r.json.data.license?.id === license.id);
    expect(forLicense("license.created")).toHaveLength(1);
    expect(forLicense("activation.created")[0]!.json.data.activation).toMatchObject({ fingerprint: "ada-laptop", name: "Ada's laptop" });
    expect(forLicense("activation.deleted")[0]!.json.data).toMatchObject({ activation: { fingerprint: "ada-laptop" }, license: { activations: 0 } });
    expect(forLicense("license.suspended")[0]!.json.data).toMatchObject({ license: { status: "suspended" }, reason: "chargeback review" });
    expect(forLicense("license.reinstated")[0]!.json.data.license.status).toBe("active");
    expect(forLicense("license.updated").map((r) => r.json.data.changed)).toEqual(expect.arrayContaining([["seats"], ["expiresAt"]]));
    expect(forLicense("license.key_rotated")[0]!.body).not.toContain(rotated.body.key);
    expect(forLicense("license.revoked")[0]!.json.data.license.status).toBe("revoked");
    const expired = receiver.received.filter((r) => r.json.type === "license.expired");
    expect(expired.map((r) => r.json.data.license.id)).toContain(lapsing.body.license.id);
    const [stripeLicense] = receiver.received.filter((r) => r.json.type === "payment.failed").map((r) => r.json.data);
    expect(stripeLicense.license.status).toBe("past_due");
    expect(stripeLicense.payment.invoiceId).toMatch(/^in_/);
    const renewed = receiver.received.filter((r) => r.json.type === "license.renewed").map((r) => r.json.data);
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatchObject({ license: { id: stripeLicense.license.id, status: "active", expiresAt: "2031-05-01T00:00:00.000Z" } });

    // Each delivery is logged: 2xx, a latency, the first bytes of the answer.
    const log = await call("GET", `/api/v1/admin/webhooks/${made.body.webhook.id}/deliveries?limit=100`);
    expect(log.status).toBe(200);
    const delivered = log.body.data.filter((d: { status: string }) => d.status === "delivered");
    expect(delivered.length).toBeGreaterThanOrEqual(12);
    expect(delivered[0].log[0]).toMatchObject({ statusCode: 200, response: '{"ok":true}', trigger: "schedule" });
    expect(typeof delivered[0].log[0].latencyMs).toBe("number");
    const page2 = await call("GET", `/api/v1/admin/webhooks/${made.body.webhook.id}/deliveries?limit=2`);
    expect(page2.body.data).toHaveLength(2);
    const page3 = await call("GET", `/api/v1/admin/webhooks/${made.body.webhook.id}/deliveries?limit=2&cursor=${page2.body.nextCursor}`);
    expect(page3.body.data[0].id).not.toBe(page2.body.data[1].id);
    expect(page3.body.data[0].createdAt <= page2.body.data[1].createdAt).toBe(true);
  });

  it("retries a failed delivery with the same webhook-id and body, logs each attempt, and retries and replays by hand", async () => {
    const made = await app.post("/api/v1/admin/webhooks", { url: `${flaky.url}/hook`, events: ["license.created"] }, auth);
    const secret: string = made.body.secret;
    const id: string = made.body.webhook.id;
    flaky.failNext([503], "busy, come back later");
    const issued = await app.post("/api/v1/admin/licenses", { plan: "hooked-pro", email: "eve@example.com" }, auth);
    expect(issued.status).toBe(201);
    // The first attempt fails; the schedule's first retry comes 5 seconds later.
    const [first, second] = await flaky.waitFor(2, undefined, 30_000);
    expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(second!.body).toBe(first!.body);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(4_500);
    expectSignedBy(secret, first!);
    expectSignedBy(secret, second!);

    const delivery = await eventually(async () => {
      const log = await call("GET", `/api/v1/admin/webhooks/${id}/deliveries`);
      const d = log.body.data[0];
      return d?.status === "delivered" ? d : undefined;
    }, 10_000, "the delivery to be delivered");
    expect(delivery.eventId).toBe(first!.headers["webhook-id"]);
    expect(delivery.attempts).toBe(2);
    expect(delivery.log.map((a: { statusCode: number }) => a.statusCode)).toEqual([200, 503]);
    expect(delivery.log[1].response).toBe("busy, come back later");

    // Retry is for what did not arrive; replay sends a delivered event again, under the same webhook-id.
    const retry = await call("POST", `/api/v1/admin/webhooks/${id}/deliveries/${delivery.id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe("INVALID_STATE");
    const replay = await call("POST", `/api/v1/admin/webhooks/${id}/replay`, { deliveryId: delivery.id });
    expect(replay.status).toBe(202);
    expect(replay.body.replayed).toBe(1);
    const [, , third] = await flaky.waitFor(3);
    expect(third!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
    expect(third!.body).toBe(first!.body);

    // A manual retry of a failing delivery: its attempt is logged as manual.
    flaky.always(500, "still broken");
    const test = await call("POST", `/api/v1/admin/webhooks/${id}/test`);
    expect(test.status).toBe(202);
    expect(test.body.delivery.type).toBe("webhook.test");
    await flaky.waitFor(1, (r) => r.json.type === "webhook.test");
    flaky.always(null);
    const retried = await call("POST", `/api/v1/admin/webhooks/${id}/deliveries/${test.body.delivery.id}/retry`);
    expect(retried.status).toBe(202);
    const tests = await flaky.waitFor(2, (r) => r.json.type === "webhook.test");
    expect(tests[1]!.headers["webhook-id"]).toBe(tests[0]!.headers["webhook-id"]);
    const done = await eventually(async () => {
      const d = (await call("GET", `/api/v1/admin/webhooks/${id}/deliveries?status=delivered`)).body.data.find((x: { id: string }) => x.id === test.body.delivery.id);
      return d;
    }, 10_000, "the test delivery to be delivered");
    expect(done.log[0]).toMatchObject({ trigger: "manual", statusCode: 200 });

    // Someone else's delivery id under this endpoint is not found.
    const other = await app.post("/api/v1/admin/webhooks", { url: `${flaky.url}/other`, events: ["license.created"] }, auth);
    expect((await call("POST", `/api/v1/admin/webhooks/${other.body.webhook.id}/deliveries/${delivery.id}/retry`)).status).toBe(404);
    const audit = await db().select().from(auditLog).where(inArray(auditLog.action, ["webhook.created", "webhook.replayed", "webhook.delivery_retried"]));
    expect(audit.length).toBeGreaterThanOrEqual(3);
  });

  it("after a rotation both secrets sign, so a receiver on the old one still verifies", async () => {
    const made = await app.post("/api/v1/admin/webhooks", { url: `${receiver.url}/rotating`, events: ["license.created"] }, auth);
    const oldSecret: string = made.body.secret;
    const id: string = made.body.webhook.id;
    const rotated = await call("POST", `/api/v1/admin/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(oldSecret);
    const until = new Date(rotated.body.previousSecretExpiresAt).getTime();
    expect(Math.abs(until - (Date.now() + 86_400_000))).toBeLessThan(60_000);
    expect(rotated.body.webhook.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt);

    const test = await call("POST", `/api/v1/admin/webhooks/${id}/test`);
    expect(test.status).toBe(202);
    const [r] = await receiver.waitFor(1, (x) => x.json.type === "webhook.test" && x.json.data.webhook.id === id);
    expect(r!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expectSignedBy(oldSecret, r!);
    expectSignedBy(rotated.body.secret, r!);
    expect(() => new Webhook(`whsec_${crypto.randomBytes(32).toString("base64")}`).verify(r!.body, r!.headers)).toThrow(WebhookVerificationError);
  });

  it("PATCH disables and enables an endpoint; a disabled one gets nothing", async () => {
    const made = await app.post("/api/v1/admin/webhooks", { url: `${receiver.url}/toggle`, events: ["license.created"] }, auth);
    const id: string = made.body.webhook.id;
    const off = await call("PATCH", `/api/v1/admin/webhooks/${id}`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body.webhook.enabled).toBe(false);
    expect((await app.post("/api/v1/admin/licenses", { plan: "hooked-pro", email: "fay@example.com" }, auth)).status).toBe(201);
    const on = await call("PATCH", `/api/v1/admin/webhooks/${id}`, { enabled: true, description: "back" });
    expect(on.body.webhook).toMatchObject({ enabled: true, description: "back" });
    const issued = await app.post("/api/v1/admin/licenses", { plan: "hooked-pro", email: "gus@example.com" }, auth);
    await receiver.waitFor(1, (r) => r.path === "/toggle" && r.json.data?.license?.id === issued.body.license.id);
    // Fay's license was issued while it was disabled: the other endpoints got it, this one never did.
    await receiver.waitFor(1, (r) => r.path === "/all" && r.json.data?.license?.customer?.email === "fay@example.com");
    expect(receiver.received.filter((r) => r.path === "/toggle")).toHaveLength(1);
    const deliveries = await db().select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id));
    expect(deliveries).toHaveLength(1);
    expect((await call("PATCH", `/api/v1/admin/webhooks/${id}`, { url: "gopher://x" })).status).toBe(400);
  });
});

describe("private addresses without WEBHOOK_ALLOW_PRIVATE", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("refuses loopback, private, link-local and unique-local targets, v4 and v6, with a 400 that says why", async () => {
    for (const url of [
      "http://127.0.0.1:9/x",
      "http://localhost:9/x",
      "http://10.1.2.3/x",
      "http://172.16.0.1/x",
      "http://192.168.1.1/x",
      "http://169.254.169.254/latest/meta-data",
      "http://100.64.0.1/x",
      "http://0.0.0.0/x",
      "http://[::1]/x",
      "http://[fd00::1]/x",
      "http://[fe80::1]/x",
      "http://[::ffff:127.0.0.1]/x",
      "http://[::ffff:a9fe:a9fe]/x",
      "http://[64:ff9b::7f00:1]/x",
    ]) {
      const res = await app.post("/api/v1/admin/webhooks", { url, events: ["license.created"] }, auth);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
      expect(res.body.error.message, url).toMatch(/private, loopback or reserved|does not resolve/);
    }
  });
});
