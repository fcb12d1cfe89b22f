import crypto from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { licenses } from "@/server/db/schema";
import { API, type ApiRouteName } from "@/server/rest/api-routes";
import { eventually, startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { signedWebhook, stripeEvent } from "./helpers/fake-stripe";

/**
 * Everything the admin app can do, over the management API (issue 11): customers, catalog edits and retiring,
 * license plan change / freeing one seat / resending / searching, Stripe events, emails, audit, signing keys,
 * tokens; Idempotency-Key; one list shape and one error shape. Against the built app. Every answer is parsed
 * with the schema the OpenAPI document gives for it, so the document cannot describe something else.
 */

const uniq = () => crypto.randomBytes(3).toString("hex");
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
type Answer = { status: number; body: any; headers: Headers };

let app: TestApp;
beforeAll(async () => {
  app = await startApp({ env: { RATE_LIMIT_IP: "100000", RATE_LIMIT_KEY: "0" } });
});
afterAll(async () => {
  await app?.stop();
});

async function call(
  method: string,
  route: string,
  body?: unknown,
  opts: { token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer> {
  const hasBody = body !== undefined || opts.raw !== undefined;
  const res = await fetch(app.url + route, {
    method,
    headers: {
      authorization: `Bearer ${opts.token ?? TEST_ADMIN_TOKEN}`,
      ...(hasBody ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    },
    body: opts.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** The answer is what the document says this route answers with this status (or the one error shape). */
function documented(name: ApiRouteName, res: Answer, status: number) {
  expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(status);
  const route = API[name] as { responses: Record<number, { schema: { parse: (v: unknown) => unknown } }> };
  if (status >= 400) {
    expect(Object.keys(res.body)).toEqual(["error"]);
    expect(res.body.error.code).toMatch(/^[A-Z_]+$/);
    expect(typeof res.body.error.message).toBe("string");
  } else {
    expect(route.responses[status], `${name} documents ${status}`).toBeDefined();
    route.responses[status]!.schema.parse(res.body);
  }
  return res.body;
}

async function catalog(over: { graceDays?: number } = {}) {
  const s = uniq();
  documented("createProduct", await call("POST", "/api/v1/admin/products", { slug: `app-${s}`, name: `App ${s}` }), 201);
  const plan = (slug: string, seats: number) =>
    call("POST", "/api/v1/admin/plans", {
      product: `app-${s}`,
      slug,
      name: slug,
      seats,
      durationDays: 365,
      entitlements: ["sync"],
      stripePriceIds: [],
      ...(over.graceDays === undefined ? {} : { graceDays: over.graceDays }),
    });
  const basic = documented("createPlan", await plan(`basic-${s}`, 2), 201).plan;
  const pro = documented("createPlan", await plan(`pro-${s}`, 5), 201).plan;
  return { product: `app-${s}`, basic, pro };
}

async function issue(plan: string, email: string) {
  return documented("issueLicense", await call("POST", "/api/v1/admin/licenses", { plan, email }), 201) as { license: any; key: string };
}

const activate = (key: string, fingerprint: string) => app.post("/api/v1/licenses/activate", { key, fingerprint, name: fingerprint });

describe("API tokens over the API", () => {
  it("makes a scoped, expiring token (the secret shown once), lists it with its last use, revokes it", async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const made = documented("createApiToken", await call("POST", "/api/v1/admin/tokens", { name: "ci", scopes: ["read", "licenses:write"], expiresAt }), 201);
    expect(made.token).toMatchObject({ name: "ci", scopes: ["read", "licenses:write"], expiresAt, lastUsedAt: null });
    expect(made.secret).toMatch(/^ks_[0-9A-Za-z]{32}$/);

    expect((await call("GET", "/api/v1/admin/licenses", undefined, { token: made.secret })).status).toBe(200);
    const listed = documented("listApiTokens", await call("GET", "/api/v1/admin/tokens"), 200);
    expect(listed.nextCursor).toBeNull();
    const row = listed.data.find((t: any) => t.id === made.token.id);
    expect(row.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(made.secret);

    expect(documented("createApiToken", await call("POST", "/api/v1/admin/tokens", { name: "old", scopes: ["read"], expiresAt: "2000-01-01T00:00:00Z" }), 400).error.code).toBe("BAD_REQUEST");
    expect((await call("POST", "/api/v1/admin/tokens", { name: "x", scopes: ["root"] })).status).toBe(400);
    expect((await call("POST", "/api/v1/admin/tokens", { name: "x", scopes: [] })).status).toBe(400);

    documented("revokeApiToken", await call("DELETE", `/api/v1/admin/tokens/${made.token.id}`), 200);
    expect((await call("GET", "/api/v1/admin/licenses", undefined, { token: made.secret })).status).toBe(401);
    expect(documented("revokeApiToken", await call("DELETE", `/api/v1/admin/tokens/${made.token.id}`), 404).error.code).toBe("NOT_FOUND");
    expect((await call("DELETE", "/api/v1/admin/tokens/not-a-uuid")).status).toBe(404);
  });

  it("names the token as the actor in the audit log, which the API lists", async () => {
    const { pro } = await catalog();
    const made = (await call("POST", "/api/v1/admin/tokens", { name: "issuer", scopes: ["licenses:write"] })).body;
    const issued = (await call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email: `t-${uniq()}@example.com` }, { token: made.secret })).body;
    const audit = documented("listAudit", await call("GET", `/api/v1/admin/audit?actorType=api_token&actorId=${made.token.id}`), 200);
    expect(audit.data.length).toBeGreaterThan(0);
    for (const entry of audit.data) expect(entry.actor).toEqual({ type: "api_token", id: made.token.id, name: "issuer" });
    expect(audit.data.map((e: any) => e.subject.id)).toContain(issued.license.id);
  });
});

describe("catalog edits over the API", () => {
  it("renames, retires and brings back a product; a retired product takes no new plan", async () => {
    const { product } = await catalog();
    expect(documented("updateProduct", await call("PATCH", `/api/v1/admin/products/${product}`, { name: "Renamed" }), 200).product.name).toBe("Renamed");
    expect(documented("updateProduct", await call("PATCH", "/api/v1/admin/products/no-such", { name: "X" }), 404).error.code).toBe("PRODUCT_NOT_FOUND");
    expect((await call("PATCH", `/api/v1/admin/products/${product}`, { slug: "new-slug" })).status).toBe(400);
    const retired = documented("retireProduct", await call("POST", `/api/v1/admin/products/${product}/retire`), 200);
    expect(retired.product.archivedAt).not.toBeNull();
    const plan = await call("POST", "/api/v1/admin/plans", { product, slug: `late-${uniq()}`, name: "Late", seats: 1, durationDays: null, entitlements: [], stripePriceIds: [] });
    expect(plan.status).toBe(409);
    expect(documented("unretireProduct", await call("POST", `/api/v1/admin/products/${product}/unretire`), 200).product.archivedAt).toBeNull();
  });

  it("PATCHes a plan with any creation field, leaving the fields not named as they are; a retired plan issues nothing", async () => {
    const { basic } = await catalog({ graceDays: 7 });
    const changed = documented(
      "updatePlan",
      await call("PATCH", `/api/v1/admin/plans/${basic.slug}`, { name: "Basic+", seats: 4, offlineTokenTtlSeconds: 3600, heartbeatWindowSeconds: 600 }),
      200,
    ).plan;
    expect(changed).toMatchObject({ name: "Basic+", seats: 4, graceDays: 7, durationDays: 365, entitlements: ["sync"], offlineTokenTtlSeconds: 3600 });
    expect((await call("PATCH", `/api/v1/admin/plans/${basic.slug}`, { product: "other" })).status).toBe(400);

    documented("retirePlan", await call("POST", `/api/v1/admin/plans/${basic.slug}/retire`), 200);
    const refused = await call("POST", "/api/v1/admin/licenses", { plan: basic.slug, email: `r-${uniq()}@example.com` });
    expect([refused.status, refused.body.error.code]).toEqual([409, "INVALID_STATE"]);
    documented("unretirePlan", await call("POST", `/api/v1/admin/plans/${basic.slug}/unretire`), 200);
    await issue(basic.slug, `r-${uniq()}@example.com`);
    expect(documented("listPlans", await call("GET", "/api/v1/admin/plans"), 200).nextCursor).toBeNull();
  });
});

describe("licenses and customers over the API", () => {
  it("searches by key hint, email and fingerprint; frees one seat; changes the plan; resends the email", async () => {
    const { basic, pro } = await catalog();
    const email = `Ada-${uniq()}@Example.com`;
    const { license, key } = await issue(basic.slug, email);
    const fp = `machine-${uniq()}`;
    expect((await activate(key, fp)).status).toBe(201);
    expect((await activate(key, `${fp}-2`)).status).toBe(201);

    const search = async (q: string, field = "auto") =>
      documented("searchLicenses", await call("GET", `/api/v1/admin/licenses/search?q=${encodeURIComponent(q)}&field=${field}`), 200).data.map((l: any) => l.id);
    expect(await search(`…${key.slice(-5)}`)).toContain(license.id);
    expect(await search(email.toLowerCase(), "email")).toEqual([license.id]);
    expect(await search(fp, "fingerprint")).toEqual([license.id]);
    expect(await search("nothing-like-this", "fingerprint")).toEqual([]);

    const detail = documented("getLicense", await call("GET", `/api/v1/admin/licenses/${license.id}`), 200);
    const one = detail.activations.find((a: any) => a.fingerprint === fp);
    const freed = documented("freeActivation", await call("DELETE", `/api/v1/admin/licenses/${license.id}/activations/${one.id}`), 200);
    expect(freed.license.activations).toBe(1);
    expect(freed.activations.map((a: any) => a.fingerprint)).toEqual([`${fp}-2`]);
    expect((await call("DELETE", `/api/v1/admin/licenses/${license.id}/activations/${one.id}`)).status).toBe(404);
    expect((await app.post("/api/v1/licenses/validate", { key, fingerprint: fp })).body.code).toBe("NOT_ACTIVATED");

    const moved = documented("changeLicensePlan", await call("POST", `/api/v1/admin/licenses/${license.id}/change-plan`, { plan: pro.slug }), 200);
    // Seats stay unless given.
    expect(moved.license).toMatchObject({ plan: pro.slug, maxActivations: 2 });
    const resized = documented("changeLicensePlan", await call("POST", `/api/v1/admin/licenses/${license.id}/change-plan`, { plan: basic.slug, seats: 5 }), 200);
    expect(resized.license).toMatchObject({ plan: basic.slug, maxActivations: 5 });
    expect((await call("POST", `/api/v1/admin/licenses/${license.id}/change-plan`, { plan: "no-such" })).status).toBe(404);

    const resent = documented("resendLicenseEmail", await call("POST", `/api/v1/admin/licenses/${license.id}/resend-email`), 202);
    expect(resent.to.toLowerCase()).toBe(email.toLowerCase());
    const emails = documented("listEmails", await call("GET", `/api/v1/admin/emails?to=${encodeURIComponent(resent.to)}`), 200);
    const queued = emails.data.find((e: any) => e.id === resent.outboxId);
    expect(queued).toMatchObject({ template: "license-issued" });
    const retried = await call("POST", `/api/v1/admin/emails/${resent.outboxId}/retry`);
    // No email provider in this app: the email waits, and a retry queues it again (a sent one would be 409).
    if (retried.status === 409) expect(retried.body.error.code).toBe("INVALID_STATE");
    else expect(documented("retryEmail", retried, 202).email.id).toBe(resent.outboxId);
    expect((await call("POST", `/api/v1/admin/emails/${UNKNOWN_ID}/retry`)).status).toBe(404);
    expect((await call("POST", `/api/v1/admin/licenses/${UNKNOWN_ID}/resend-email`)).status).toBe(404);
  });

  it("finds, shows and corrects a customer (refusing another customer's address); pages with { data, nextCursor }", async () => {
    const { pro } = await catalog();
    const tag = uniq();
    const first = await issue(pro.slug, `cust-${tag}-a@example.com`);
    await issue(pro.slug, `cust-${tag}-b@example.com`);

    const page1 = documented("searchCustomers", await call("GET", `/api/v1/admin/customers?q=cust-${tag}&limit=1`), 200);
    expect(page1.data).toHaveLength(1);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = documented("searchCustomers", await call("GET", `/api/v1/admin/customers?q=cust-${tag}&limit=1&cursor=${page1.nextCursor}`), 200);
    expect(page2.data.map((c: any) => c.email)).toEqual([`cust-${tag}-b@example.com`]);
    expect(page2.nextCursor).toBeNull();
    expect(documented("searchCustomers", await call("GET", "/api/v1/admin/customers?cursor=garbage"), 400).error.code).toBe("BAD_REQUEST");
    expect((await call("GET", "/api/v1/admin/customers?limit=0")).status).toBe(400);

    const id = first.license.customer.id;
    const detail = documented("getCustomer", await call("GET", `/api/v1/admin/customers/${id}`), 200);
    expect(detail.licenses.map((l: any) => l.id)).toEqual([first.license.id]);
    expect((await call("GET", `/api/v1/admin/customers/${UNKNOWN_ID}`)).status).toBe(404);

    const changed = documented("changeCustomerEmail", await call("PATCH", `/api/v1/admin/customers/${id}`, { email: `cust-${tag}-new@example.com` }), 200);
    expect(changed.customer).toEqual({ id, email: `cust-${tag}-new@example.com` });
    const taken = await call("PATCH", `/api/v1/admin/customers/${id}`, { email: `CUST-${tag}-B@example.com` });
    expect([taken.status, taken.body.error.code]).toEqual([409, "ALREADY_EXISTS"]);
    expect((await call("PATCH", `/api/v1/admin/customers/${id}`, { email: "not an email" })).status).toBe(400);
  });
});

describe("Stripe events, signing keys over the API", () => {
  it("lists, shows and replays a stored Stripe event", async () => {
    const event = stripeEvent("product.created", { id: `prod_${uniq()}`, object: "product" });
    const delivery = signedWebhook(event);
    const res = await fetch(`${app.url}/api/stripe/webhook`, { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(200);
    await eventually(async () => {
      const list = documented("listStripeEvents", await call("GET", `/api/v1/admin/stripe/events?status=ignored`), 200);
      return list.data.some((e: any) => e.id === event.id);
    }, 20_000, "the event processed");
    const shown = documented("getStripeEvent", await call("GET", `/api/v1/admin/stripe/events/${event.id}`), 200);
    expect(shown.event).toMatchObject({ id: event.id, type: "product.created", status: "ignored" });
    expect((shown.event.payload as any).id).toBe(event.id);
    expect((await call("GET", "/api/v1/admin/stripe/events/evt_nope")).status).toBe(404);

    const replayed = documented("replayStripeEvent", await call("POST", `/api/v1/admin/stripe/events/${event.id}/replay`), 202);
    expect(replayed.event.status).toBe("pending");
    await eventually(async () => (await call("GET", `/api/v1/admin/stripe/events/${event.id}`)).body.event.status === "ignored", 20_000, "the replay");
    const audit = (await call("GET", `/api/v1/admin/audit?subjectType=stripe_event&subjectId=${event.id}`)).body;
    expect(audit.data.map((e: any) => [e.action, e.actor.id])).toContainEqual(["stripe_event.replayed", "bootstrap"]);
  });

  it("lists the signing keys and rotates them", async () => {
    await app.get("/api/v1/jwks"); // the first key exists from start-up
    const before = documented("listSigningKeys", await call("GET", "/api/v1/admin/signing-keys"), 200);
    const rotated = documented("rotateSigningKey", await call("POST", "/api/v1/admin/signing-keys/rotate"), 200);
    const after = documented("listSigningKeys", await call("GET", "/api/v1/admin/signing-keys"), 200);
    expect(after.data).toHaveLength(before.data.length + 1);
    expect(after.data.find((k: any) => k.state === "signing").kid).toBe(rotated.kid);
    expect((await app.get("/api/v1/jwks")).body.keys.map((k: any) => k.kid)).toContain(rotated.kid);
  });
});

describe("Idempotency-Key", () => {
  const countFor = async (email: string) =>
    (
      await app.database.db.execute(
        sql`select count(*)::int as n from ${licenses} l join customers c on c.id = l.customer_id where lower(c.email) = lower(${email})`,
      )
    ).rows[0]!.n as number;

  it("answers the same key and body with the first answer; another body, path or method gets 409 IDEMPOTENCY_CONFLICT", async () => {
    const { pro } = await catalog();
    const email = `idem-${uniq()}@example.com`;
    const key = crypto.randomUUID();
    const headers = { "idempotency-key": key };
    const first = await call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email }, { headers });
    documented("issueLicense", first, 201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const again = await call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email }, { headers });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await countFor(email)).toBe(1);

    const otherBody = await call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email: `x-${email}` }, { headers });
    expect([otherBody.status, otherBody.body.error.code]).toEqual([409, "IDEMPOTENCY_CONFLICT"]);
    const otherPath = await call("POST", "/api/v1/admin/products", { slug: `p-${uniq()}`, name: "P" }, { headers });
    expect([otherPath.status, otherPath.body.error.code]).toEqual([409, "IDEMPOTENCY_CONFLICT"]);
    expect(await countFor(`x-${email}`)).toBe(0);

    // Keys are per caller: another token's same key is its own.
    const other = (await call("POST", "/api/v1/admin/tokens", { name: "other", scopes: ["licenses:write"] })).body.secret;
    const theirs = await call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email }, { headers, token: other });
    expect(theirs.status).toBe(201);
    expect(theirs.body.license.id).not.toBe(first.body.license.id);
    expect(await countFor(email)).toBe(2);

    // A refusal is an answer too; a malformed key is refused.
    const k2 = { "idempotency-key": crypto.randomUUID() };
    const missing = await call("POST", "/api/v1/admin/licenses", { plan: "no-such-plan", email }, { headers: k2 });
    expect(missing.status).toBe(404);
    const missingAgain = await call("POST", "/api/v1/admin/licenses", { plan: "no-such-plan", email }, { headers: k2 });
    expect([missingAgain.status, missingAgain.headers.get("idempotent-replayed")]).toEqual([404, "true"]);
    expect((await call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email }, { headers: { "idempotency-key": "x".repeat(300) } })).status).toBe(400);
  });

  it("runs concurrent requests with one key once: every one gets the same answer", async () => {
    const { pro } = await catalog();
    const email = `race-${uniq()}@example.com`;
    const headers = { "idempotency-key": crypto.randomUUID() };
    const answers = await Promise.all(Array.from({ length: 12 }, () => call("POST", "/api/v1/admin/licenses", { plan: pro.slug, email }, { headers })));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(201));
    const ids = new Set(answers.map((a) => a.body.license.id));
    expect(ids.size).toBe(1);
    expect(new Set(answers.map((a) => a.body.key)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(11);
    expect(await countFor(email)).toBe(1);
    const [row] = await app.database.db.select().from(licenses).where(and(eq(licenses.id, [...ids][0]!)));
    expect(row).toBeDefined();
  });

  it("without a key, the same request twice does it twice (the key is what makes it idempotent)", async () => {
    const { pro } = await catalog();
    const email = `twice-${uniq()}@example.com`;
    await issue(pro.slug, email);
    await issue(pro.slug, email);
    expect(await countFor(email)).toBe(2);
  });
});
