import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, sessions, usageDaily, users } from "@/server/db/schema";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { makeCustomer, makeLicense } from "./helpers/factories";
import { browserless, confirmForm, followLink, locationOf, postConfirm, requestLink } from "./helpers/sign-in";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// The real built app: the proxy and layouts send anonymous visitors to sign in, and the email link signs in
// through next-auth, our outbox, the worker and SMTP, with no browser (test/browser-signin.test.ts has one).

const ADMIN = "boss@example.com";

let app: TestApp;
let catcher: SmtpCatcher;
beforeAll(async () => {
  catcher = await startSmtpCatcher();
  app = await startApp({ env: { SMTP_URL: catcher.url, ADMIN_EMAILS: `Boss@Example.com, other-admin@example.com` } });
});
afterAll(async () => {
  await app?.stop();
  await catcher?.stop();
});

const person = () => browserless(app.url);

const location = (res: Response) => locationOf(app.url, res);

describe("anonymous visitors", () => {
  it.each([
    ["/admin", "/admin"],
    ["/admin/licenses?status=active", "/admin/licenses?status=active"],
    ["/portal", "/portal"],
  ])("are sent from %s to sign in, and back afterwards", async (path, back) => {
    const res = await fetch(app.url + path, { redirect: "manual" });
    expect(res.status).toBe(307);
    const to = location(res)!;
    expect(to.pathname).toBe("/signin");
    expect(to.searchParams.get("callbackUrl")).toBe(back);
    const html = await (await fetch(app.url + to.pathname + to.search)).text();
    expect(html).toContain("Email me a sign-in link");
  });

  it("with a stale session cookie are sent to sign in too, and see no admin page", async () => {
    const res = await fetch(`${app.url}/admin`, { redirect: "manual", headers: { cookie: "next-auth.session-token=not-a-session" } });
    expect(res.status).toBe(307);
    expect(location(res)!.searchParams.get("callbackUrl")).toBe("/admin");
    const trpc = await fetch(`${app.url}/api/trpc/dashboard.summary`, { headers: { cookie: "next-auth.session-token=not-a-session" } });
    expect(trpc.status).toBe(401);
  });
});

describe("signing in with an emailed link", () => {
  it("a customer gets the link by email (never stored in clear), lands in the portal and sees only the portal", async () => {
    const customer = await makeCustomer(app.database.db, "Carla@Example.com");
    await makeLicense(app.database.db, { customerId: customer.id });
    const client = person();
    const { answer, message, link } = await requestLink(client, catcher, "carla@example.com", "/portal");
    // next-auth answers with its own verify-request URL, which redirects to our page.
    const verify = await client.request(answer.url);
    expect(location(verify)!.pathname).toBe("/signin/check-email");
    expect(message.to).toEqual(["carla@example.com"]);
    expect(message.subject).toBe(`Sign in to ${new URL(app.url).host}`);
    expect(message.html).toContain(link.replaceAll("&", "&amp;"));

    // The outbox keeps the link sealed: neither the token nor the URL is readable in the row.
    const token = new URL(link).searchParams.get("token")!;
    const [row] = await app.database.db.select().from(emailOutbox).where(eq(emailOutbox.template, "sign-in-link"));
    expect(row).toMatchObject({ status: "sent", to: "carla@example.com" });
    expect(JSON.stringify(row!.props)).not.toContain(token);
    expect(JSON.stringify(row!.props)).not.toContain("callback");

    const callback = await followLink(client, link);
    expect(callback.status).toBe(302);
    expect(location(callback)!.pathname).toBe("/portal");
    expect(client.jar.has("next-auth.session-token")).toBe(true);

    const portal = await client.request("/portal");
    expect(portal.status).toBe(200);
    const html = await portal.text();
    expect(html).toContain("carla@example.com");
    expect(html).toContain("Your licenses");

    const me = await (await client.request("/api/trpc/portal.me")).json();
    expect(me.result.data).toEqual({ email: "carla@example.com", isAdmin: false, hasCustomer: true });
    const licenses = await (await client.request("/api/trpc/portal.licenses")).json();
    expect(licenses.result.data).toHaveLength(1);

    // Not an admin: the plain page, no admin shell, and the admin API refuses.
    const admin = await client.request("/admin");
    expect(admin.status).toBe(200);
    const adminHtml = await admin.text();
    expect(adminHtml).toContain("Not an admin");
    expect(adminHtml).not.toContain("Stripe events");
    const summary = await client.request("/api/trpc/dashboard.summary");
    expect(summary.status).toBe(403);

    // The link works once.
    const stranger = person();
    const again = await followLink(stranger, link);
    const errorPage = await stranger.request(location(again)!.toString());
    expect(location(errorPage)!.pathname).toBe("/signin");
    expect(location(errorPage)!.searchParams.get("error")).toBe("Verification");
    expect(await (await stranger.request(location(errorPage)!.toString())).text()).toContain("expired or was already used");
    expect(stranger.jar.has("next-auth.session-token")).toBe(false);
  });

  it("an admin email (any case) lands in the admin app, and signing out ends the session", async () => {
    const client = person();
    // What the sign-in form sends when no page asked for sign-in: /signin/continue sends admins to /admin.
    const { link } = await requestLink(client, catcher, "BOSS@example.com", "/signin/continue");
    expect(new URL(link).searchParams.get("email")).toBe(ADMIN);
    const callback = await followLink(client, link);
    expect(location(callback)!.pathname).toBe("/signin/continue");
    const next = await client.request(location(callback)!.pathname);
    expect(location(next)!.pathname).toBe("/admin");

    const admin = await client.request("/admin");
    expect(admin.status).toBe(200);
    const html = await admin.text();
    expect(html).toContain("Keystead admin");
    for (const area of ["/admin/licenses", "/admin/customers", "/admin/products", "/admin/stripe-events", "/admin/emails", "/admin/settings", "/admin/audit", "/admin/export"]) {
      expect(html).toContain(`href="${area}"`);
    }
    const summary = await client.request("/api/trpc/dashboard.summary");
    expect(summary.status).toBe(200);
    // An admin with no purchases has an empty portal, not an error.
    const portal = await (await client.request("/api/trpc/portal.licenses")).json();
    expect(portal.result.data).toEqual([]);

    const [user] = await app.database.db.select().from(users).where(eq(users.email, ADMIN));
    expect(await app.database.db.select().from(sessions).where(eq(sessions.userId, user!.id))).toHaveLength(1);
    const csrf = await (await client.request("/api/auth/csrf")).json();
    const out = await client.request("/api/auth/signout", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: "/signin", json: "true" }),
    });
    expect(out.status).toBe(200);
    expect(await app.database.db.select().from(sessions).where(eq(sessions.userId, user!.id))).toHaveLength(0);
    expect((await client.request("/admin")).status).toBe(307);
  });

  it("survives mail scanners opening the link, and refuses the link posted from another site", async () => {
    const client = person();
    const { link } = await requestLink(client, catcher, "scanned@example.com", "/portal");
    expect(new URL(link).pathname).toBe("/signin/confirm");

    // A scanner opens the link, several times: each sees the confirm page, and nothing is spent.
    const scanner = person();
    for (let i = 0; i < 3; i++) {
      const page = await scanner.request(link);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Continue as <strong>scanned@example.com</strong>");
    }
    expect(scanner.jar.has("next-auth.session-token")).toBe(false);

    // Another site's form posting the link (login CSRF) is refused, and does not spend it either.
    const form = confirmForm(await (await client.request(link)).text());
    expect(form.get("token")).toBe(new URL(link).searchParams.get("token"));
    const forged = await postConfirm(person(), form, "https://evil.example");
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe("FORBIDDEN");

    // The person presses the button: signed in, in the portal.
    const callback = await followLink(client, link);
    expect(callback.status).toBe(302);
    expect(location(callback)!.pathname).toBe("/portal");
    expect(client.jar.has("next-auth.session-token")).toBe(true);
  });

  it("explains a link that lost its token, and sends its post back to sign in", async () => {
    const page = await fetch(`${app.url}/signin/confirm?email=cut%40example.com`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("This link is incomplete");
    expect(html).not.toContain('action="/signin/confirm/go"');
    const go = await postConfirm(person(), new URLSearchParams({ email: "cut@example.com" }));
    expect(go.status).toBe(303);
    expect(location(go)!.pathname).toBe("/signin");
    expect(location(go)!.searchParams.get("error")).toBe("Verification");
    expect((await fetch(`${app.url}/signin/confirm/go`, { redirect: "manual" })).status).toBe(405);
  });

  it("a crafted callback link (GET or POST) signs no one in and spends nothing; the confirm button still does", async () => {
    const attacker = person();
    const { link } = await requestLink(attacker, catcher, "mallory@example.com", "/portal");
    const params = new URL(link).searchParams;
    const callback = `/api/auth/callback/email?${params}`;
    const tokenRows = async () => (await app.database.pool.query("select count(*)::int as n from verification_tokens where identifier = $1", ["mallory@example.com"])).rows[0].n;
    const sessionRows = async () => (await app.database.pool.query("select count(*)::int as n from sessions s join users u on u.id = s.user_id where u.email = $1", ["mallory@example.com"])).rows[0].n;
    expect(await tokenRows()).toBe(1);

    // The victim's browser is made to open the attacker's raw callback link, or to post it from a page elsewhere.
    const victim = person();
    const attempts = [
      await victim.request(callback),
      await victim.request(callback, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" }, body: "" }),
    ];
    // The attacker's own confirm cookie is for the attacker's browser; a cookie for another token proves nothing.
    const go = await postConfirm(attacker, confirmForm(await (await attacker.request(link)).text()));
    expect(go.status).toBe(303);
    const confirmCookie = go.headers.getSetCookie().find((c) => c.startsWith("keystead.sign-in-confirmed="))!;
    expect(confirmCookie).toMatch(/; Path=\/api\/auth\/callback\/email; Max-Age=\d+; HttpOnly; SameSite=Lax/);
    const otherToken = new URLSearchParams(params);
    otherToken.set("token", "0".repeat(64));
    attempts.push(await attacker.request(`/api/auth/callback/email?${otherToken}`));

    for (const res of attempts) {
      // Sent to the confirm page with the link's own parameters: a real person who got here still has the button.
      expect(res.status).toBe(303);
      expect(location(res)!.pathname).toBe("/signin/confirm");
      expect(res.headers.getSetCookie().filter((c) => c.includes("session-token"))).toEqual([]);
    }
    expect(location(attempts[0]!)!.search).toBe(new URL(link).search);
    expect(victim.jar.has("next-auth.session-token")).toBe(false);
    expect(await sessionRows()).toBe(0);
    expect(await tokenRows()).toBe(1);

    // The person who asked for the link presses the button: signed in, the token spent, the confirm cookie gone.
    const signedIn = await attacker.request(location(go)!.toString());
    expect(signedIn.status).toBe(302);
    expect(location(signedIn)!.pathname).toBe("/portal");
    expect(attacker.jar.has("next-auth.session-token")).toBe(true);
    expect(attacker.jar.has("keystead.sign-in-confirmed")).toBe(false);
    expect(await sessionRows()).toBe(1);
    expect(await tokenRows()).toBe(0);
  });

  it("refuses the confirm post from another site whether it names its origin or only Sec-Fetch-Site", async () => {
    const form = new URLSearchParams({ token: "a".repeat(64), email: "x@example.com", callbackUrl: "/portal" });
    const foreign: Record<string, string>[] = [{ origin: "https://evil.example" }, { origin: "null" }, { "sec-fetch-site": "cross-site" }];
    for (const headers of foreign) {
      const res = await fetch(`${app.url}/signin/confirm/go`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form,
        redirect: "manual",
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect((await res.json()).error.code).toBe("FORBIDDEN");
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    // Our own page's post (and a client that names no site at all) goes on to next-auth.
    const ours: Record<string, string>[] = [{ origin: app.url, "sec-fetch-site": "same-origin" }, {}];
    for (const headers of ours) {
      const res = await fetch(`${app.url}/signin/confirm/go`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: form,
        redirect: "manual",
      });
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get("location")!, app.url).pathname).toBe("/api/auth/callback/email");
    }
  });
});

describe("validations per day", () => {
  it("are counted without a write per request and reach usage_daily within a flush interval", async () => {
    const { key } = await makeLicense(app.database.db);
    for (let i = 0; i < 3; i++) {
      const res = await app.post("/api/v1/licenses/validate", { key });
      expect(res.body.code).toBe("VALID");
    }
    const row = await eventually(
      async () => (await app.database.db.select().from(usageDaily).where(eq(usageDaily.metric, "validations")))[0],
      20_000,
      "the validation count to be flushed",
    );
    expect(row.count).toBe(3);
  });
});
