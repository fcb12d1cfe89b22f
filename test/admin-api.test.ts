import crypto from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activations, apiTokens, appState, auditLog, customers, emailOutbox, licenses, plans, products } from "@/server/db/schema";
import { createApiToken, revokeApiToken } from "@/server/domain/admin/api-tokens";
import { hashLicenseKey } from "@/server/domain/licensing/license-key";
import { API_ROUTES } from "@/server/rest/api-routes";
import { eventually, startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
const uniq = () => crypto.randomBytes(3).toString("hex");
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/** Every management route, from the route table the OpenAPI document is made of (test/openapi.test.ts). */
const ADMIN_ROUTES = API_ROUTES.filter((r) => r.scope).map((r) => [r.method, r.path] as const);

describe("management API", () => {
  let app: TestApp;
  const get = (route: string, headers: Record<string, string> = AUTH) => app.get(route, headers);
  const post = (route: string, body?: unknown, headers: Record<string, string> = AUTH) => app.post(route, body, headers);
  const send = async (method: string, route: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(app.url + route, { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };

  async function makeCatalog(over: { seats?: number; durationDays?: number | null; graceDays?: number } = {}) {
    const s = uniq();
    const product = await post("/api/v1/admin/products", { slug: `app-${s}`, name: `App ${s}` });
    expect(product.status).toBe(201);
    const plan = await post("/api/v1/admin/plans", {
      product: `app-${s}`,
      slug: `pro-${s}`,
      name: "Pro",
      seats: over.seats ?? 3,
      durationDays: over.durationDays === undefined ? 365 : over.durationDays,
      entitlements: ["export", "sync"],
      stripePriceIds: [`price_${s}_a`, `price_${s}_b`],
      ...(over.graceDays === undefined ? {} : { graceDays: over.graceDays }),
    });
    expect(plan.status).toBe(201);
    return { product: product.body.product, plan: plan.body.plan };
  }

  async function issue(plan: string, email: string, extra: Record<string, unknown> = {}) {
    const res = await post("/api/v1/admin/licenses", { plan, email, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { license: { id: string; [k: string]: unknown }; key: string };
  }

  const auditActions = async (licenseId: string) =>
    (
      await app.database.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.subjectType, "license"), eq(auditLog.subjectId, licenseId)))
        .orderBy(auditLog.id)
    ).map((r) => r.action);

  beforeAll(async () => {
    // The 401 walk below sends hundreds of bad tokens from one address; the bad-token limit has its own test.
    app = await startApp({ env: { RATE_LIMIT_IP: "100000" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("answers 401 UNAUTHORIZED on every admin route without a valid token, and changes nothing", async () => {
    const slug = `nope-${uniq()}`;
    const wrong: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token-0123456789abcdef" },
      { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString("base64")}` },
      { authorization: TEST_ADMIN_TOKEN },
      { authorization: "Bearer ks_0000000000000000000000000000000" },
    ];
    for (const [method, route] of ADMIN_ROUTES) {
      const url = route.replace("{slug}", slug).replace(/\{\w+\}/g, UNKNOWN_ID);
      for (const headers of wrong) {
        const res =
          method === "GET"
            ? await get(url, headers)
            : method === "POST"
              ? await post(url, { slug, name: "Nope", expiresAt: null }, headers)
              : await send(method, url, { name: "Nope" }, headers);
        expect(res.status, `${method} ${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.body.error.code).toBe("UNAUTHORIZED");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
    // An unknown action is still a 401 before it is a 404: nothing about the API leaks without a token.
    expect((await post(`/api/v1/admin/licenses/${UNKNOWN_ID}/explode`, {}, {})).status).toBe(401);
    expect(await app.database.db.select().from(products).where(eq(products.slug, slug))).toEqual([]);
  });

  it("accepts a token made in the admin app until it is revoked, and records it as the actor", async () => {
    const db = app.database.db;
    const { secret: token, token: apiToken } = await db.transaction((tx) =>
      createApiToken(tx, { type: "admin", id: "owner@example.com" }, { name: "CI", scopes: ["admin"] }),
    );
    expect(token).toMatch(/^ks_[0-9A-Za-z]{32}$/);
    expect(apiToken.tokenStart).toBe(token.slice(0, 7));
    const [stored] = await db.select().from(apiTokens).where(eq(apiTokens.id, apiToken.id));
    expect(JSON.stringify(stored)).not.toContain(token.slice(3));
    expect(stored!.lastUsedAt).toBeNull();

    const headers = { authorization: `Bearer ${token}` };
    expect((await get("/api/v1/admin/products", headers)).status).toBe(200);
    const slug = `tok-${uniq()}`;
    const created = await post("/api/v1/admin/products", { slug, name: "Made with a token" }, headers);
    expect(created.status).toBe(201);
    const [audit] = await db.select().from(auditLog).where(eq(auditLog.subjectId, created.body.product.id));
    expect(audit).toMatchObject({ action: "product.created", actorType: "api_token", actorId: apiToken.id });
    const [used] = await db.select().from(apiTokens).where(eq(apiTokens.id, apiToken.id));
    expect(used!.lastUsedAt).not.toBeNull();

    // The scheme is case-insensitive (RFC 9110); the token is not.
    expect((await get("/api/v1/admin/products", { authorization: `bearer ${token}` })).status).toBe(200);
    expect((await get("/api/v1/admin/products", { authorization: `Bearer ${token.toLowerCase()}` })).status).toBe(401);

    await db.transaction((tx) => revokeApiToken(tx, { type: "admin", id: "owner@example.com" }, apiToken.id));
    const revoked = await get("/api/v1/admin/products", headers);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe("UNAUTHORIZED");
  });

  it("creates products and plans, refusing duplicates, unknown products and prices bound elsewhere", async () => {
    const s = uniq();
    const product = await post("/api/v1/admin/products", { slug: `cat-${s}`, name: "  Catalog App  " });
    expect(product.status).toBe(201);
    expect(product.body.product).toMatchObject({ slug: `cat-${s}`, name: "Catalog App" });
    expect(product.body.product.id).toMatch(/^[0-9a-f-]{36}$/);

    const again = await post("/api/v1/admin/products", { slug: `cat-${s}`, name: "Other" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("ALREADY_EXISTS");

    const planBody = {
      product: `cat-${s}`,
      slug: `cat-pro-${s}`,
      name: "Pro",
      seats: 2,
      durationDays: null,
      entitlements: ["a", "b", "a"],
      stripePriceIds: [`price_cat_${s}`],
    };
    const plan = await post("/api/v1/admin/plans", planBody);
    expect(plan.status).toBe(201);
    expect(plan.body.plan).toMatchObject({
      product: `cat-${s}`,
      slug: `cat-pro-${s}`,
      seats: 2,
      durationDays: null,
      graceDays: 0,
      entitlements: ["a", "b"],
      stripePriceIds: [`price_cat_${s}`],
      offlineTokenTtlSeconds: null,
      heartbeatWindowSeconds: null,
    });

    const unknownProduct = await post("/api/v1/admin/plans", { ...planBody, product: `missing-${s}`, slug: `x-${s}` });
    expect(unknownProduct.status).toBe(404);
    expect(unknownProduct.body.error.code).toBe("PRODUCT_NOT_FOUND");

    const dupSlug = await post("/api/v1/admin/plans", { ...planBody, stripePriceIds: [] });
    expect(dupSlug.status).toBe(409);
    expect(dupSlug.body.error.code).toBe("ALREADY_EXISTS");

    // One price already issues cat-pro: the whole new plan is refused, not half-created.
    const dupPrice = await post("/api/v1/admin/plans", {
      ...planBody,
      slug: `cat-team-${s}`,
      stripePriceIds: [`price_cat_new_${s}`, `price_cat_${s}`],
    });
    expect(dupPrice.status).toBe(409);
    expect(dupPrice.body.error.code).toBe("ALREADY_EXISTS");
    expect(await app.database.db.select().from(plans).where(eq(plans.slug, `cat-team-${s}`))).toEqual([]);

    const team = await post("/api/v1/admin/plans", {
      ...planBody,
      slug: `cat-team-${s}`,
      seats: 10,
      durationDays: 30,
      graceDays: 7,
      offlineTokenTtlSeconds: 3600,
      heartbeatWindowSeconds: 600,
      stripePriceIds: [`price_cat_new_${s}`],
    });
    expect(team.status).toBe(201);

    const products_ = await get("/api/v1/admin/products");
    expect(products_.status).toBe(200);
    expect(products_.body.data).toContainEqual(product.body.product);
    const plans_ = await get("/api/v1/admin/plans");
    expect(plans_.status).toBe(200);
    expect(plans_.body.data).toContainEqual(plan.body.plan);
    expect(plans_.body.data).toContainEqual(team.body.plan);
    expect(team.body.plan).toMatchObject({ graceDays: 7, offlineTokenTtlSeconds: 3600, heartbeatWindowSeconds: 600 });

    const audits = await app.database.db
      .select({ action: auditLog.action, actorId: auditLog.actorId })
      .from(auditLog)
      .where(sql`${auditLog.subjectId} in (${product.body.product.id}, ${plan.body.plan.id}, ${team.body.plan.id})`);
    expect(audits.map((a) => a.action).sort()).toEqual(["plan.created", "plan.created", "product.created"]);
    expect(audits.every((a) => a.actorId === "bootstrap")).toBe(true);
  });

  it("survives concurrent creation of the same product: one 201, the rest 409", async () => {
    const slug = `race-${uniq()}`;
    const results = await Promise.all(
      Array.from({ length: 12 }, () => post("/api/v1/admin/products", { slug, name: "Race" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.error.code === "ALREADY_EXISTS")).toHaveLength(11);
  });

  it("issues a license by hand: key, customer by email, the license email queued, an audit row", async () => {
    const { plan } = await makeCatalog({ seats: 3, durationDays: 30 });
    const email = `Manual.${uniq()}@Example.com`;
    const { license, key } = await issue(plan.slug, email);
    expect(key).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    expect(license).toMatchObject({
      status: "active",
      plan: plan.slug,
      product: plan.product,
      entitlements: ["export", "sync"],
      maxActivations: 3,
      activations: 0,
      customer: { email },
    });
    const expires = new Date(license.expiresAt as string).getTime();
    expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(120_000);

    const db = app.database.db;
    const [row] = await db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row).toMatchObject({ keyHash: hashLicenseKey(key), source: "manual" });
    const [outbox] = await db.select().from(emailOutbox).where(eq(emailOutbox.dedupeKey, `license-issued:manual:${license.id}`));
    expect(outbox).toMatchObject({ template: "license-issued", to: email, props: { licenseIds: [license.id] } });
    const [audit] = await db.select().from(auditLog).where(eq(auditLog.subjectId, license.id));
    expect(audit).toMatchObject({ action: "license.issued", actorType: "api_token", actorId: "bootstrap" });

    // Same person, other case: same customer. Seats and expiry can be overridden; null is perpetual.
    const second = await issue(plan.slug, email.toUpperCase(), { seats: 7, expiresAt: null });
    expect(second.license).toMatchObject({ maxActivations: 7, expiresAt: null });
    expect((second.license.customer as { id: string }).id).toBe((license.customer as { id: string }).id);
    const at = inDays(90);
    const third = await issue(plan.slug, email, { expiresAt: at });
    expect(third.license.expiresAt).toBe(at);

    const unknownPlan = await post("/api/v1/admin/licenses", { plan: `missing-${uniq()}`, email });
    expect(unknownPlan.status).toBe(404);
    expect(unknownPlan.body.error.code).toBe("PLAN_NOT_FOUND");
  });

  it("lists licenses by email across pages: newest first, no duplicates, no gaps, ties broken by id", async () => {
    const { plan } = await makeCatalog();
    const other = await makeCatalog();
    const email = `Pager.${uniq()}@Example.com`;
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) {
      const addr = i % 2 ? email.toLowerCase() : email;
      mine.push((await issue(i < 5 ? plan.slug : other.plan.slug, addr)).license.id);
    }
    await issue(plan.slug, `someone.else.${uniq()}@example.com`);
    const db = app.database.db;
    // Ties and microseconds: three licenses share one instant with sub-millisecond precision.
    await db.execute(
      sql`update licenses set created_at = '2031-01-01 00:00:00.123456+00' where id in (${mine[1]}, ${mine[2]}, ${mine[4]})`,
    );
    await db.execute(sql`update licenses set created_at = '2031-01-01 00:00:00.123457+00' where id = ${mine[6]}`);

    const ordered = (
      await db.execute<{ id: string }>(sql`
        select l.id from licenses l join customers c on c.id = l.customer_id
        where lower(c.email) = lower(${email}) order by l.created_at desc, l.id desc`)
    ).rows.map((r) => r.id);
    expect([...ordered].sort()).toEqual([...mine].sort());

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?email=${encodeURIComponent(email.toUpperCase())}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await get(`/api/v1/admin/licenses${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      for (const l of res.body.data) {
        expect(l.customer.email.toLowerCase()).toBe(email.toLowerCase());
        seen.push(l.id);
      }
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(4);
    expect(seen).toEqual(ordered);

    // Filters combine.
    const byPlan = await get(`/api/v1/admin/licenses?email=${encodeURIComponent(email)}&plan=${other.plan.slug}`);
    expect(byPlan.body.data.map((l: { id: string }) => l.id).sort()).toEqual([mine[5], mine[6]].sort());
    expect(byPlan.body.nextCursor).toBeNull();
    const byProduct = await get(`/api/v1/admin/licenses?product=${plan.product}&limit=200`);
    expect(byProduct.body.data).toHaveLength(6);
    await post(`/api/v1/admin/licenses/${mine[0]}/suspend`, {});
    const suspended = await get(`/api/v1/admin/licenses?email=${encodeURIComponent(email)}&status=suspended&status=`);
    expect(suspended.body.data.map((l: { id: string }) => l.id)).toEqual([mine[0]]);
    // Empty parameters mean "no filter".
    const blank = await get(`/api/v1/admin/licenses?email=${encodeURIComponent(email)}&status=&plan=&limit=200`);
    expect(blank.body.data).toHaveLength(7);
  });

  it("walks a license through its lifecycle, each step audited, revoked being final", async () => {
    const { plan } = await makeCatalog({ seats: 3, durationDays: 30 });
    const { license, key } = await issue(plan.slug, `life.${uniq()}@example.com`);
    const id = license.id;
    const db = app.database.db;
    const act = (action: string, body?: unknown) => post(`/api/v1/admin/licenses/${id}/${action}`, body);

    const detail = await get(`/api/v1/admin/licenses/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toEqual({ license, activations: [] });

    const suspended = await act("suspend", { reason: "Chargeback opened" });
    expect(suspended.status).toBe(200);
    expect(suspended.body.license).toMatchObject({ id, status: "suspended" });
    expect((await db.select().from(licenses).where(eq(licenses.id, id)))[0]!.statusReason).toBe("Chargeback opened");
    const twice = await act("suspend");
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe("INVALID_STATE");

    const reinstated = await act("reinstate");
    expect(reinstated.status).toBe(200);
    expect(reinstated.body.license.status).toBe("active");
    expect((await db.select().from(licenses).where(eq(licenses.id, id)))[0]!.statusReason).toBeNull();
    expect((await act("reinstate", {})).status).toBe(409);

    const rotated = await act("rotate-key");
    expect(rotated.status).toBe(200);
    expect(rotated.body.license.id).toBe(id);
    expect(rotated.body.key).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
    expect(rotated.body.key).not.toBe(key);
    expect(await db.select().from(licenses).where(eq(licenses.keyHash, hashLicenseKey(key)!))).toEqual([]);
    const [byNewKey] = await db.select().from(licenses).where(eq(licenses.keyHash, hashLicenseKey(rotated.body.key)!));
    expect(byNewKey!.id).toBe(id);
    // And through the door client software uses.
    expect((await app.post("/api/v1/licenses/validate", { key })).body).toMatchObject({ valid: false, code: "NOT_FOUND" });
    expect((await app.post("/api/v1/licenses/validate", { key: rotated.body.key })).body).toMatchObject({ valid: true, code: "VALID" });

    const later = inDays(400);
    const extended = await act("extend", { expiresAt: later });
    expect(extended.status).toBe(200);
    expect(extended.body.license.expiresAt).toBe(later);
    const past = await act("extend", { expiresAt: "2020-01-01T00:00:00Z" });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe("BAD_REQUEST");
    const perpetual = await act("extend", { expiresAt: null });
    expect(perpetual.body.license.expiresAt).toBeNull();

    await db.insert(activations).values(
      ["m-1", "m-2", "m-3"].map((fingerprint) => ({ licenseId: id, fingerprint, name: fingerprint, platform: "linux" })),
    );
    const withActivations = await get(`/api/v1/admin/licenses/${id}`);
    expect(withActivations.body.license.activations).toBe(3);
    expect(withActivations.body.activations.map((a: { fingerprint: string }) => a.fingerprint).sort()).toEqual(["m-1", "m-2", "m-3"]);
    // Fewer seats than machines: the least recently seen machine goes (licensing/seats.ts, as a Stripe downgrade).
    await db.update(activations).set({ lastSeenAt: new Date(Date.now() - 86_400_000) }).where(and(eq(activations.licenseId, id), eq(activations.fingerprint, "m-2")));
    const fewer = await act("change-seats", { seats: 2 });
    expect(fewer.status).toBe(200);
    expect(fewer.body.license).toMatchObject({ maxActivations: 2, activations: 2 });
    expect((await db.select().from(activations).where(eq(activations.licenseId, id))).map((a) => a.fingerprint).sort()).toEqual(["m-1", "m-3"]);
    const more = await act("change-seats", { seats: 5 });
    expect(more.status).toBe(200);
    expect(more.body.license.maxActivations).toBe(5);

    const reset = await act("reset-activations");
    expect(reset.status).toBe(200);
    expect(reset.body.license.activations).toBe(0);
    expect(await db.select().from(activations).where(eq(activations.licenseId, id))).toEqual([]);

    const revoked = await act("revoke", { reason: "Refunded" });
    expect(revoked.status).toBe(200);
    expect(revoked.body.license.status).toBe("revoked");
    for (const [action, body] of [
      ["reinstate", undefined],
      ["suspend", {}],
      ["revoke", {}],
      ["extend", { expiresAt: later }],
      ["rotate-key", undefined],
      ["reset-activations", undefined],
      ["change-seats", { seats: 9 }],
    ] as const) {
      const res = await act(action, body);
      expect(res.status, action).toBe(409);
      expect(res.body.error.code).toBe("INVALID_STATE");
    }

    expect(await auditActions(id)).toEqual([
      "license.issued",
      "license.suspended",
      "license.reinstated",
      "license.key_rotated",
      "license.extended",
      "license.extended",
      "license.seats_changed",
      "license.seats_changed",
      "license.activations_reset",
      "license.revoked",
    ]);
    const rows = await db.select().from(auditLog).where(and(eq(auditLog.subjectType, "license"), eq(auditLog.subjectId, id)));
    for (const r of rows) expect(r).toMatchObject({ actorType: "api_token", actorId: "bootstrap" });
    const bySuspend = rows.find((r) => r.action === "license.suspended")!;
    expect(bySuspend.before).toMatchObject({ status: "active" });
    expect(bySuspend.after).toMatchObject({ status: "suspended", statusReason: "Chargeback opened" });
    const byRotate = rows.find((r) => r.action === "license.key_rotated")!;
    expect((byRotate.before as { keyHint: string }).keyHint).toBe(key.slice(-5));
    expect((byRotate.after as { keyHint: string }).keyHint).toBe(rotated.body.key.slice(-5));
    expect(JSON.stringify(rows)).not.toContain(rotated.body.key);
    const byReset = rows.find((r) => r.action === "license.activations_reset")!;
    expect(byReset.metadata).toMatchObject({ removed: 2 });
    const bySeats = rows.find((r) => r.action === "license.seats_changed" && r.metadata)!;
    expect(bySeats.metadata).toEqual({ removedActivations: 1, fingerprints: ["m-2"] });
  });

  it("reinstates an expired license as expired, and extending it makes it active again", async () => {
    const { plan } = await makeCatalog({ durationDays: 30, graceDays: 1 });
    const { license } = await issue(plan.slug, `exp.${uniq()}@example.com`);
    await app.database.db.execute(sql`update licenses set expires_at = now() - interval '2 days' where id = ${license.id}`);
    await post(`/api/v1/admin/licenses/${license.id}/suspend`);
    const back = await post(`/api/v1/admin/licenses/${license.id}/reinstate`);
    expect(back.body.license.status).toBe("expired");
    const extended = await post(`/api/v1/admin/licenses/${license.id}/extend`, { expiresAt: inDays(10) });
    expect(extended.body.license.status).toBe("active");
  });

  it("serialises concurrent actions on one license: of 10 racing suspends exactly one wins", async () => {
    const { plan } = await makeCatalog();
    const { license } = await issue(plan.slug, `race.${uniq()}@example.com`);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post(`/api/v1/admin/licenses/${license.id}/suspend`, { reason: "race" })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect((await auditActions(license.id)).filter((a) => a === "license.suspended")).toHaveLength(1);
  });

  it("answers 404 for unknown licenses, malformed ids and unknown actions", async () => {
    const { plan } = await makeCatalog();
    const { license } = await issue(plan.slug, `nf.${uniq()}@example.com`);
    for (const id of [UNKNOWN_ID, "not-a-uuid", "1", "%00", `${license.id}x`]) {
      const res = await get(`/api/v1/admin/licenses/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
      const acted = await post(`/api/v1/admin/licenses/${id}/suspend`, {});
      expect(acted.status, id).toBe(404);
      expect(acted.body.error.code).toBe("NOT_FOUND");
    }
    for (const action of ["explode", "constructor", "__proto__", "toString", "SUSPEND"]) {
      const res = await post(`/api/v1/admin/licenses/${license.id}/${action}`, "not json");
      expect(res.status, action).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
    expect(await auditActions(license.id)).toEqual(["license.issued"]);
  });

  it("answers 405 METHOD_NOT_ALLOWED with the error body for methods a route does not serve", async () => {
    for (const [method, route] of [
      ["DELETE", "/api/v1/admin/products"],
      ["PUT", "/api/v1/admin/plans"],
      ["POST", `/api/v1/admin/licenses/${UNKNOWN_ID}`],
      ["GET", `/api/v1/admin/licenses/${UNKNOWN_ID}/suspend`],
      ["GET", "/api/v1/admin/stripe/reconcile"],
    ]) {
      const res = await fetch(app.url + route, { method, headers: AUTH });
      expect(res.status, `${method} ${route}`).toBe(405);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("METHOD_NOT_ALLOWED");
    }
  });

  it("refuses malformed input with 400 BAD_REQUEST, never a 5xx", async () => {
    const { plan } = await makeCatalog();
    const { license } = await issue(plan.slug, `bad.${uniq()}@example.com`);
    const s = uniq();
    const planBody = { product: plan.product, slug: `p-${s}`, name: "P", seats: 1, durationDays: null, entitlements: [], stripePriceIds: [] };
    const posts: [string, unknown][] = [
      ["/api/v1/admin/products", { slug: "Upper", name: "x" }],
      ["/api/v1/admin/products", { slug: "has space", name: "x" }],
      ["/api/v1/admin/products", { slug: "", name: "x" }],
      ["/api/v1/admin/products", { slug: "a".repeat(65), name: "x" }],
      ["/api/v1/admin/products", { slug: `ok-${s}` }],
      ["/api/v1/admin/products", { slug: `ok-${s}`, name: "   " }],
      ["/api/v1/admin/products", { slug: `ok-${s}`, name: "nul\u0000byte" }],
      ["/api/v1/admin/products", { slug: `ok-${s}`, name: "x", extra: true }],
      ["/api/v1/admin/products", [{ slug: `ok-${s}`, name: "x" }]],
      ["/api/v1/admin/products", "not json"],
      ["/api/v1/admin/products", "null"],
      ["/api/v1/admin/products", ""],
      ["/api/v1/admin/plans", { ...planBody, seats: 0 }],
      ["/api/v1/admin/plans", { ...planBody, seats: 1.5 }],
      ["/api/v1/admin/plans", { ...planBody, seats: "3" }],
      ["/api/v1/admin/plans", { ...planBody, durationDays: -1 }],
      ["/api/v1/admin/plans", { ...planBody, durationDays: undefined }],
      ["/api/v1/admin/plans", { ...planBody, entitlements: "export" }],
      ["/api/v1/admin/plans", { ...planBody, entitlements: [""] }],
      ["/api/v1/admin/plans", { ...planBody, stripePriceIds: [42] }],
      ["/api/v1/admin/plans", { ...planBody, graceDays: -1 }],
      ["/api/v1/admin/plans", { ...planBody, offlineTokenTtlSeconds: 1 }],
      ["/api/v1/admin/plans", { ...planBody, product: "BAD SLUG" }],
      ["/api/v1/admin/licenses", { plan: plan.slug, email: "not-an-email" }],
      ["/api/v1/admin/licenses", { plan: plan.slug }],
      ["/api/v1/admin/licenses", { plan: plan.slug, email: "a@example.com", seats: 0 }],
      ["/api/v1/admin/licenses", { plan: plan.slug, email: "a@example.com", expiresAt: "tomorrow" }],
      ["/api/v1/admin/licenses", { plan: plan.slug, email: "a@example.com", expiresAt: "2020-01-01T00:00:00Z" }],
      ["/api/v1/admin/licenses", { plan: "nul\u0000", email: "a@example.com" }],
      [`/api/v1/admin/licenses/${license.id}/extend`, {}],
      [`/api/v1/admin/licenses/${license.id}/extend`, { expiresAt: 1893456000 }],
      [`/api/v1/admin/licenses/${license.id}/change-seats`, { seats: "3" }],
      [`/api/v1/admin/licenses/${license.id}/change-seats`, { seats: 0 }],
      [`/api/v1/admin/licenses/${license.id}/suspend`, { reason: 5 }],
      [`/api/v1/admin/licenses/${license.id}/suspend`, "{"],
      [`/api/v1/admin/licenses/${license.id}/reinstate`, { extra: 1 }],
      [`/api/v1/admin/licenses/${license.id}/rotate-key`, []],
    ];
    for (const [route, body] of posts) {
      const res = await post(route, body);
      expect(res.status, `${route} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
      expect(typeof res.body.error.message).toBe("string");
    }
    const queries = ["limit=0", "limit=201", "limit=abc", "status=bogus", "cursor=garbage", `cursor=${Buffer.from('["x","y"]').toString("base64url")}`, "email=%00"];
    for (const q of queries) {
      const res = await get(`/api/v1/admin/licenses?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
    }
    // Nothing above changed the license.
    expect(await auditActions(license.id)).toEqual(["license.issued"]);
    expect(await app.database.db.select().from(products).where(eq(products.slug, `ok-${s}`))).toEqual([]);
    expect(await app.database.db.select().from(customers).where(eq(customers.email, "a@example.com"))).toEqual([]);
  });

  it("queues a Stripe reconciliation run (which today only records that it was asked for)", async () => {
    const res = await post("/api/v1/admin/stripe/reconcile");
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ queued: true });
    const [row] = await eventually(
      async () => {
        const rows = await app.database.db.select().from(appState).where(eq(appState.key, "stripe.reconcile_requested_at"));
        return rows.length ? rows : null;
      },
      20_000,
      "the stripe_reconcile job",
    );
    expect(new Date(row!.value as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("logged no unhandled error while answering everything above", () => {
    expect(app.logs()).not.toContain("unhandled error in a REST route");
  });

});
