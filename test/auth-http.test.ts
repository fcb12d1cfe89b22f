import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, sessions, usageDaily, users } from "@/server/db/schema";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { makeCustomer, makeLicense } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";
import {
  browserless as browserClient,
  confirmForm,
  followLink,
  location as locationOf,
  postConfirm,
  requestLink as requestSignInLink,
  type Browserless,
} from "./helpers/sign-in";

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

// The sign-in helpers, bound to this file's app and catcher.
const browserless = () => browserClient(app.url);
const requestLink = (client: Browserless, email: string, callbackUrl?: string) => requestSignInLink(client, catcher, email, callbackUrl);
const location = (res: Response) => locationOf(res, app.url);

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
    const client = browserless();
    const { answer, message, link } = await requestLink(client, "carla@example.com", "/portal");
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
    const stranger = browserless();
    const again = await followLink(stranger, link);
    const errorPage = await stranger.request(location(again)!.toString());
    expect(location(errorPage)!.pathname).toBe("/signin");
    expect(location(errorPage)!.searchParams.get("error")).toBe("Verification");
    expect(await (await stranger.request(location(errorPage)!.toString())).text()).toContain("expired or was already used");
    expect(stranger.jar.has("next-auth.session-token")).toBe(false);
  });

  it("an admin email (any case) lands in the admin app, and signing out ends the session", async () => {
    const client = browserless();
    // What the sign-in form sends when no page asked for sign-in: /signin/continue sends admins to /admin.
    const { link } = await requestLink(client, "BOSS@example.com", "/signin/continue");
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
    const client = browserless();
    const { link } = await requestLink(client, "scanned@example.com", "/portal");
    expect(new URL(link).pathname).toBe("/signin/confirm");

    // A scanner opens the link, several times: each sees the confirm page, and nothing is spent.
    const scanner = browserless();
    for (let i = 0; i < 3; i++) {
      const page = await scanner.request(link);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Continue as <strong>scanned@example.com</strong>");
    }
    expect(scanner.jar.has("next-auth.session-token")).toBe(false);

    // Another site's form posting the link (login CSRF) is refused, and does not spend it either.
    const form = confirmForm(await (await client.request(link)).text());
    expect(form.get("token")).toBe(new URL(link).searchParams.get("token"));
    const forged = await postConfirm(browserless(), form, "https://evil.example");
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
    const go = await postConfirm(browserless(), new URLSearchParams({ email: "cut@example.com" }));
    expect(go.status).toBe(303);
    expect(location(go)!.pathname).toBe("/signin");
    expect(location(go)!.searchParams.get("error")).toBe("Verification");
    expect((await fetch(`${app.url}/signin/confirm/go`, { redirect: "manual" })).status).toBe(405);
  });

  it("refuses a bad address in words, and limits how many links one address gets", async () => {
    const client = browserless();
    const csrf = await (await client.request("/api/auth/csrf")).json();
    const post = (email: string) =>
      client.request("/api/auth/signin/email", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email, csrfToken: csrf.csrfToken, json: "true" }),
      });
    const bad = await (await post("not-an-email")).json();
    expect(new URL(bad.url).searchParams.get("error")).toBe("EmailSignin");
    const page = await (await fetch(bad.url)).text();
    expect(page).toContain("We could not send the sign-in email");

    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(new URL((await (await post("flood@example.com")).json()).url));
    expect(answers.slice(0, 5).map((u) => u.pathname)).toEqual(Array(5).fill("/api/auth/verify-request"));
    expect(answers[5]!.searchParams.get("error")).toBe("EmailSignin");
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
