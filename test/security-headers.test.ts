import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";

// Every page answers with its security headers, over real HTTP against the built app. Whether the pages still
// work under the policy is for the browser tests (test/helpers/browser.ts counts every CSP violation).

const PAGES = ["/", "/signin", "/signin/check-email", "/signin/confirm?token=abc&email=a%40example.com", "/dev/mailbox", "/admin", "/admin/licenses", "/portal", "/no-such-page"];

async function fetchPage(app: TestApp, path: string) {
  const res = await fetch(app.url + path, { redirect: "manual" });
  return { status: res.status, headers: res.headers, html: await res.text() };
}

const scriptNonce = (csp: string | null) => /script-src [^;]*'nonce-([A-Za-z0-9+/=]+)'/.exec(csp ?? "")?.[1];

describe("security headers over http", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it.each(PAGES)("%s carries the policy, a per-request script nonce, and no HSTS on http", async (path) => {
    const page = await fetchPage(app, path);
    expect(page.status).not.toBeGreaterThanOrEqual(500);
    const csp = page.headers.get("content-security-policy");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'self'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toContain("upgrade-insecure-requests");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe(path.startsWith("/signin/confirm") ? "same-origin" : "strict-origin-when-cross-origin");
    expect(page.headers.get("strict-transport-security")).toBeNull();

    const nonce = scriptNonce(csp);
    expect(nonce).toBeTruthy();
    expect(scriptNonce((await fetchPage(app, path)).headers.get("content-security-policy"))).not.toBe(nonce);
    if (page.status === 200) {
      // Every script Next rendered carries this response's nonce, or the browser would refuse to run it.
      const scripts = page.html.match(/<script\b[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.filter((tag) => !tag.includes(`nonce="${nonce}"`))).toEqual([]);
    }
  });

  it("keeps sending anonymous visitors of the admin app and the portal to sign in", async () => {
    for (const path of ["/admin/licenses?status=active", "/portal"]) {
      const page = await fetchPage(app, path);
      expect(page.status).toBe(307);
      const location = new URL(page.headers.get("location")!, app.url);
      expect(location.pathname + location.search).toBe(`/signin?${new URLSearchParams({ callbackUrl: path })}`);
    }
  });

  it("gives the JSON routes nosniff and no page policy", async () => {
    const res = await fetch(`${app.url}/api/health`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toBeNull();
    const jwks = await fetch(`${app.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("content-security-policy")).toBeNull();
  });
});

describe("security headers when APP_URL is https", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { APP_URL: "https://licenses.example.com" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("adds Strict-Transport-Security and upgrades insecure requests", async () => {
    for (const path of ["/", "/signin", "/admin"]) {
      const page = await fetchPage(app, path);
      expect(page.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
      expect(page.headers.get("content-security-policy")).toContain("upgrade-insecure-requests");
    }
  });
});
