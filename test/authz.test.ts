import crypto from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCaller } from "@/server/api/root";
import type { AppSession, TRPCContext } from "@/server/api/trpc";
import { eq } from "drizzle-orm";
import { API_TOKEN_SCOPES, apiTokens, auditLog, type ApiTokenScope } from "@/server/db/schema";
import { createApiToken, grants, revokeApiToken } from "@/server/domain/admin/api-tokens";
import type { Actor } from "@/server/domain/audit/record";
import { API_ROUTES, type ApiRoute } from "@/server/rest/api-routes";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { browserless } from "./helpers/sign-in";

/**
 * Every procedure of the app router, found by walking the router (not a hand-kept list), must refuse the
 * wrong caller: an admin procedure refuses an anonymous caller (UNAUTHORIZED) and a signed-in non-admin
 * (FORBIDDEN); a portal procedure refuses an anonymous caller. A new router whose procedures forget
 * adminProcedure fails here without anyone remembering to add a test.
 */

/** Procedures a signed-in customer may call: the portal. Everything not listed here is treated as admin-only. */
const CUSTOMER_PREFIXES = ["portal.", "portalDownloads."];
/** Developer tools: guarded by devProcedure (no email provider and not production), not by sign-in. */
const DEV_PREFIXES = ["dev."];

type Kind = "admin" | "customer" | "dev";
const kindOf = (path: string): Kind =>
  CUSTOMER_PREFIXES.some((p) => path.startsWith(p)) ? "customer" : DEV_PREFIXES.some((p) => path.startsWith(p)) ? "dev" : "admin";

type AnyProcedure = { _def: { type: "query" | "mutation" | "subscription" } };
// At run time _def.procedures is flat: dotted path -> procedure (its static type is the nested record).
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>).map(([path, p]) => ({
  path,
  type: p._def.type,
  kind: kindOf(path),
}));

let database: TestDb;
beforeAll(async () => {
  database = await createTestDatabase("authz");
});
afterAll(async () => {
  await database?.drop();
});

const context = (session: AppSession | null): TRPCContext => ({ db: database.db, session, headers: new Headers() });
const person = (isAdmin: boolean): AppSession => ({
  user: { id: crypto.randomUUID(), email: `${isAdmin ? "admin" : "someone"}@example.com`, isAdmin },
  customerId: null,
});

/** Calls a procedure by its dotted path through a server-side caller, with an input that is deliberately junk. */
async function call(session: AppSession | null, path: string, input: unknown = undefined): Promise<unknown> {
  let target: any = createCaller(context(session));
  for (const part of path.split(".")) target = target[part];
  return target(input);
}

async function errorCode(session: AppSession | null, path: string): Promise<string | null> {
  try {
    await call(session, path);
    return null;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

describe("the procedure list", () => {
  it("is found by walking the router, and the known areas are in it", () => {
    const paths = procedures.map((p) => p.path);
    expect(paths.length).toBeGreaterThan(5);
    expect(paths).toEqual(expect.arrayContaining(["portal.licenses", "portal.deactivate", "dashboard.summary", "dashboard.setup"]));
    // The allow-lists must name real procedures, or they silently stop meaning anything.
    for (const prefix of [...CUSTOMER_PREFIXES, ...DEV_PREFIXES]) {
      expect(paths.some((p) => p.startsWith(prefix)), `no procedure under ${prefix}`).toBe(true);
    }
  });
});

describe.each(procedures.filter((p) => p.kind === "admin"))("admin procedure $path ($type)", ({ path }) => {
  it("refuses an anonymous caller with UNAUTHORIZED", async () => {
    expect(await errorCode(null, path)).toBe("UNAUTHORIZED");
  });
  it("refuses a signed-in non-admin with FORBIDDEN", async () => {
    expect(await errorCode(person(false), path)).toBe("FORBIDDEN");
  });
  it("refuses a non-admin who is also a customer with FORBIDDEN", async () => {
    expect(await errorCode({ ...person(false), customerId: crypto.randomUUID() }, path)).toBe("FORBIDDEN");
  });
});

describe.each(procedures.filter((p) => p.kind === "customer"))("portal procedure $path ($type)", ({ path }) => {
  it("refuses an anonymous caller with UNAUTHORIZED", async () => {
    expect(await errorCode(null, path)).toBe("UNAUTHORIZED");
  });
});

describe("the guard lets the right caller through", () => {
  // Without this, a procedure that refused everyone (or a broken test) would pass the checks above.
  it.each(procedures.filter((p) => p.kind === "admin" && p.type === "query"))("an admin reaches $path", async ({ path }) => {
    const code = await errorCode(person(true), path);
    expect(code === "UNAUTHORIZED" || code === "FORBIDDEN", `${path} answered ${code}`).toBe(false);
  });
  it("a signed-in customer reaches the portal", async () => {
    await expect(call(person(false), "portal.licenses")).resolves.toEqual([]);
    await expect(call(person(false), "portal.me")).resolves.toMatchObject({ hasCustomer: false });
  });
});

/**
 * The management API, walked from its route table (server/rest/api-routes.ts, which the OpenAPI document is made
 * of and test/openapi.test.ts checks against the route files): against the built app, every route with a token of
 * every scope. A token without the route's scope gets 403 FORBIDDEN naming the scope and changes nothing; a token
 * with it gets past the guard; no token, an expired one and a revoked one get 401.
 */
describe("management API scopes, route by route", () => {
  const UNKNOWN = "00000000-0000-4000-8000-000000000000";
  const adminRoutes = API_ROUTES.filter((r) => r.scope);
  const OWNER: Actor = { type: "admin", id: "owner@example.com" };
  let app: TestApp;
  const tokens: Record<string, { secret: string; scopes: ApiTokenScope[] }> = {};
  let expired = "";
  let revoked = "";

  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "100000" } });
    const db = app.database.db;
    for (const scopes of [["read"], ["licenses:write"], ["catalog:write"], ["read", "catalog:write"], ["admin"]] as ApiTokenScope[][]) {
      const made = await db.transaction((tx) => createApiToken(tx, OWNER, { name: scopes.join("+"), scopes }));
      tokens[scopes.join("+")] = { secret: made.secret, scopes };
    }
    const old = await db.transaction((tx) =>
      createApiToken(tx, OWNER, { name: "old", scopes: ["admin"], expiresAt: new Date(Date.now() + 3_600_000).toISOString() }),
    );
    await db.update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, old.token.id));
    expired = old.secret;
    const gone = await db.transaction((tx) => createApiToken(tx, OWNER, { name: "gone", scopes: ["admin"] }));
    await db.transaction((tx) => revokeApiToken(tx, OWNER, gone.token.id));
    revoked = gone.secret;
  });
  afterAll(async () => {
    await app?.stop();
  });

  const send = async (route: ApiRoute, token: string | null) => {
    const url = route.path.replace("{slug}", "no-such-slug").replace(/\{\w+\}/g, UNKNOWN);
    const res = await fetch(app.url + url, {
      method: route.method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(route.method === "GET" ? {} : { "content-type": "application/json" }) },
      body: route.method === "GET" ? undefined : "{}",
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("covers every management route and every scope", () => {
    expect(adminRoutes.length).toBeGreaterThan(35);
    expect(new Set(adminRoutes.map((r) => r.scope))).toEqual(new Set(API_TOKEN_SCOPES));
  });

  it("refuses a token without the route's scope with 403 FORBIDDEN naming the scope, and changes nothing", async () => {
    const auditBefore = await app.database.db.$count(auditLog);
    let refused = 0;
    for (const route of adminRoutes) {
      for (const [name, { secret, scopes }] of Object.entries(tokens)) {
        if (grants(scopes, route.scope!)) continue;
        const res = await send(route, secret);
        expect(res.status, `${name} ${route.method} ${route.path}`).toBe(403);
        expect(res.body.error).toMatchObject({ code: "FORBIDDEN", details: { scope: route.scope } });
        expect(res.body.error.message).toContain(`"${route.scope}"`);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(80);
    expect(await app.database.db.$count(auditLog)).toBe(auditBefore);
  });

  it("lets a token with the route's scope (or admin, or ADMIN_API_TOKEN) past the guard", async () => {
    for (const route of adminRoutes) {
      const allowed = [
        ...Object.entries(tokens).filter(([, t]) => grants(t.scopes, route.scope!)),
        ["ADMIN_API_TOKEN", { secret: TEST_ADMIN_TOKEN }] as const,
      ];
      expect(allowed.length).toBeGreaterThan(1);
      for (const [name, { secret }] of allowed) {
        const res = await send(route, secret);
        expect([401, 403], `${name} ${route.method} ${route.path}: ${JSON.stringify(res.body)}`).not.toContain(res.status);
        expect(res.status, `${name} ${route.method} ${route.path}`).toBeLessThan(500);
      }
    }
  });

  it("a read token cannot write; catalog:write cannot touch licenses; licenses:write cannot touch the catalog", async () => {
    const read = tokens.read!.secret;
    const catalog = tokens["catalog:write"]!.secret;
    const lic = tokens["licenses:write"]!.secret;
    const post = (p: string, token: string, body: unknown) =>
      app.post(p, body, { authorization: `Bearer ${token}` }).then((r) => [r.status, r.body.error?.code]);
    expect(await post("/api/v1/admin/products", read, { slug: "by-read", name: "Nope" })).toEqual([403, "FORBIDDEN"]);
    expect(await post("/api/v1/admin/licenses", catalog, { plan: "x", email: "a@example.com" })).toEqual([403, "FORBIDDEN"]);
    expect(await post("/api/v1/admin/products", lic, { slug: "by-lic", name: "Nope" })).toEqual([403, "FORBIDDEN"]);
    expect(await post("/api/v1/admin/tokens", lic, { name: "escalate", scopes: ["admin"] })).toEqual([403, "FORBIDDEN"]);
    // A write scope does not imply read.
    expect((await app.get("/api/v1/admin/licenses", { authorization: `Bearer ${lic}` })).status).toBe(403);
    expect(await post("/api/v1/admin/products", catalog, { slug: "by-catalog", name: "Made" })).toEqual([201, undefined]);
  });

  it("answers 401 to no token, an expired token and a revoked token on every route", async () => {
    for (const route of adminRoutes) {
      for (const token of [null, expired, revoked]) {
        const res = await send(route, token);
        expect(res.status, `${route.method} ${route.path}`).toBe(401);
        expect(res.body.error.code).toBe("UNAUTHORIZED");
      }
    }
  });
});

describe("the management API's bad-token limit", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "5" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("is checked before the token: once over, even a valid token from that address gets 429 until the window passes", async () => {
    const good = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    // Valid tokens are not counted.
    for (let i = 0; i < 8; i++) expect((await app.get("/api/v1/admin/products", good)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await app.get("/api/v1/admin/products", { authorization: "Bearer wrong" })).status).toBe(401);
    const limited = await app.get("/api/v1/admin/products", { authorization: "Bearer wrong" });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    const blocked = await app.get("/api/v1/admin/products", good);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // The limiter counts per address: another loopback address is not blocked.
    const other = browserless(app.url, { localAddress: "127.0.0.2" });
    const res = await other.request("/api/v1/admin/products", { headers: good });
    expect(res.status).toBe(200);
  });
});
