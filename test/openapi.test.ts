import fs from "node:fs";
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LICENSE_ACTIONS } from "@/server/domain/licensing/lifecycle";
import { API_ROUTES } from "@/server/rest/api-routes";
import { doorRoutes } from "@/server/rest/license-routes";
import { startApp, type TestApp } from "./helpers/app";

/**
 * The OpenAPI document the built app serves: a real validator accepts it, and it covers every route. Which
 * methods a route file serves is asked of the running app (a method it does not serve answers 405), not read
 * from a hand-kept list, so a route someone adds later fails here until it is in the route table
 * (server/rest/api-routes.ts).
 */

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** Route files under app/api that are not part of the HTTP API, and why. Keep this short. */
const NOT_API: Record<string, string> = {
  "/api/auth/[...nextauth]": "next-auth's own sign-in endpoints, for the pages",
  "/api/trpc/[trpc]": "the admin app's and the portal's tRPC, behind the session cookie",
  "/api/admin/export/json": "the admin app's download button (session cookie), not the API",
  "/api/admin/export/licenses-csv": "the admin app's download button (session cookie), not the API",
  "/api/bench/echo": "benchmark baseline; answers 404 unless BENCH_ROUTES=1",
  "/api/v1/docs/[asset]": "the reference page's own scripts",
  "/api/portal/confirm": "the button of an emailed portal link's page (a form post), not the API",
  "/api/admin-app/releases": "the admin app's upload form (session cookie); the API's is /api/v1/admin/releases",
  "/api/admin/import": "the admin app's import page (session cookie); the API's is /api/v1/admin/import",
  "/api/admin/import/[id]": "the admin app's import progress (session cookie)",
};

/** Every route file under app/api, as its URL path with [segments]. */
const routeFiles = fs
  .readdirSync(path.join(process.cwd(), "app/api"), { recursive: true, encoding: "utf8" })
  .filter((f) => path.basename(f) === "route.ts")
  .map((f) => `/api/${path.dirname(f)}`.replaceAll(path.sep, "/"));

/** A concrete URL for a route file path: every dynamic segment filled in. */
const concrete = (route: string) => route.replace(/\[\.\.\.\w+\]/g, "x").replace(/\[(\w+)\]/g, "00000000-0000-4000-8000-000000000000");
/** Whether the document path `documented` is the route file `route` (a [segment] matches any one segment). */
const matches = (route: string, documented: string) =>
  new RegExp(`^${route.replace(/\[\.\.\.\w+\]/g, ".+").replace(/\[\w+\]/g, "[^/]+")}$`).test(documented);

let app: TestApp;
let doc: any;
beforeAll(async () => {
  app = await startApp({ env: { RATE_LIMIT_IP: "100000" } });
  const res = await app.get("/api/v1/openapi.json");
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await app?.stop();
});

const documented = () =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p })));

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 by a real validator (every $ref resolves)", async () => {
    expect(doc.openapi).toBe("3.1.0");
    // validate() mutates what it is given: hand it a copy.
    const api = await SwaggerParser.validate(structuredClone(doc));
    expect(Object.keys(api.paths!).length).toBeGreaterThan(40);
  });

  it("is the route table, route for route", () => {
    expect(documented().map((o) => `${o.method} ${o.path}`).sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("documents every method of every route file under app/api (asked of the running app)", async () => {
    const missing: string[] = [];
    const served: string[] = [];
    expect(routeFiles.length).toBeGreaterThan(30);
    for (const route of routeFiles) {
      if (route in NOT_API) continue;
      for (const method of METHODS) {
        const res = await fetch(app.url + concrete(route), {
          method,
          headers: method === "GET" ? {} : { "content-type": "application/json" },
          body: method === "GET" ? undefined : "{}",
        });
        await res.arrayBuffer();
        if (res.status === 405) continue;
        served.push(`${method} ${route}`);
        if (!documented().some((o) => o.method === method && matches(route, o.path))) missing.push(`${method} ${route} (answered ${res.status})`);
      }
    }
    expect(missing, "add these to server/rest/api-routes.ts").toEqual([]);
    // The walk saw the routes it should: a broken walk (every answer 405) would pass the check above.
    expect(served).toEqual(expect.arrayContaining(["GET /api/v1/admin/customers", "PATCH /api/v1/admin/plans/[slug]", "POST /api/v1/licenses/activate"]));
    // Each NOT_API entry names a real file, or it silently stops meaning anything.
    for (const route of Object.keys(NOT_API)) expect(routeFiles, route).toContain(route);
  });

  it("documents every path the door answers itself, and every license action", () => {
    for (const [route, methods] of Object.entries(doorRoutes)) {
      const served = Object.keys(methods).filter((m) => documented().some((o) => o.path === route && o.method === m));
      expect(served.length, route).toBeGreaterThan(0);
    }
    for (const action of Object.keys(LICENSE_ACTIONS)) {
      expect(doc.paths[`/api/v1/admin/licenses/{id}/${action}`]?.post, action).toBeDefined();
    }
  });

  it("names the scope of every management operation, and only those need a token", () => {
    for (const route of API_ROUTES) {
      const op = doc.paths[route.path][route.method.toLowerCase()];
      if (route.path.startsWith("/api/v1/admin/")) {
        expect(route.scope, route.path).toBeDefined();
        expect(op.security).toEqual([{ bearerAuth: [route.scope] }]);
        expect(op["x-keystead-scope"]).toBe(route.scope);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["401", "403", "429"]));
        if (route.method !== "GET") expect(op.parameters.map((p: { name: string }) => p.name)).toContain("Idempotency-Key");
      } else {
        expect(op.security, route.path).toBeUndefined();
      }
      // JSON bodies, and the uploads (multipart) and imported files (octet-stream) alike, name a component schema.
      if (op.requestBody) for (const media of Object.values(op.requestBody.content) as { schema: { $ref: string } }[]) expect(media.schema.$ref).toMatch(/^#\/components\/schemas\//);
    }
  });

  it("takes its request schemas from the zod schemas the routes parse with", () => {
    const s = doc.components.schemas;
    expect(s.CreatePlanInput.required).toEqual(
      expect.arrayContaining(["product", "slug", "name", "seats", "durationDays", "entitlements", "stripePriceIds"]),
    );
    // PATCH takes every creation field but product and slug, none required, without creation defaults.
    const create = Object.keys(s.CreatePlanInput.properties).filter((k) => k !== "product" && k !== "slug");
    expect(Object.keys(s.UpdatePlanInput.properties).sort()).toEqual(create.sort());
    expect(s.UpdatePlanInput.required ?? []).toEqual([]);
    expect(s.UpdatePlanInput.properties.graceDays.default).toBeUndefined();
    expect(s.ActivateLicenseInput.required).toEqual(["key", "fingerprint"]);
    expect(s.CreateApiTokenInput.properties.scopes.items.enum).toEqual(["read", "licenses:write", "catalog:write", "admin"]);
    // Lists are one shape.
    for (const list of ["LicenseList", "CustomerPage", "AuditPage", "EmailPage", "StripeEventPage", "ProductList", "ApiTokenList"]) {
      expect(s[list].required, list).toEqual(["data", "nextCursor"]);
    }
  });
});

describe("GET /api/v1/docs", () => {
  it("is an HTML page whose scripts come from this origin, under a policy that allows nothing else", async () => {
    const res = await fetch(`${app.url}/api/v1/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toEqual(["/api/v1/docs/scalar.js", "/api/v1/docs/init.js"]);
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    for (const src of scripts) {
      const js = await fetch(app.url + src);
      expect(js.status, src).toBe(200);
      expect(js.headers.get("content-type")).toMatch(/javascript/);
      expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await fetch(`${app.url}/api/v1/docs/other.js`)).status).toBe(404);
  });
});
