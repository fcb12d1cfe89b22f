import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import { openSignInUrl } from "@/server/auth/sign-in-link";
import { devMailbox, emailOutbox, licenses } from "@/server/db/schema";
import { revealLicenseKey } from "@/server/domain/licensing/license-key";
import { resetEnvCache } from "@/server/env";
import { eventually, startApp, TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";
import { adminSession } from "./helpers/trpc";

// The built app in production (startApp runs NODE_ENV=production) with no email provider: a checkout and a
// sign-in request owe two emails that hold keys and links. They wait, sealed, and nothing reaches the dev
// mailbox or the log; restarted on the same database with SMTP, each arrives once, and a further restart adds none.

const BUYER = "ada@example.com";
const SIGNING_IN = "grace@example.com";

let database: TestDb;
let stripe: FakeStripe;
let catcher: SmtpCatcher;
const running: TestApp[] = [];

beforeAll(async () => {
  // Keys and links are sealed with AUTH_SECRET: this process opens them to know what must not leak.
  process.env.AUTH_SECRET = TEST_AUTH_SECRET;
  resetEnvCache();
  database = await createTestDatabase("waiting");
  stripe = await startFakeStripe();
  catcher = await startSmtpCatcher();
});
afterAll(async () => {
  for (const app of running) await app.stop();
  await catcher?.stop();
  await stripe?.stop();
  await database?.drop();
});

async function start(env: Record<string, string> = {}) {
  const app = await startApp({ database, env: { STRIPE_SECRET_KEY: "sk_test_waiting", STRIPE_API_URL: stripe.url, ...env } });
  running.push(app);
  return app;
}

/** The admin pages' own procedures (dashboard, setup, emails), as a signed-in admin calls them. */
const admin = () => createCaller({ db: database.db, session: adminSession("boss@example.com"), headers: new Headers() });

const outbox = () => database.db.select().from(emailOutbox);

describe("production without an email provider", () => {
  let key = "";
  let link = "";
  let firstLogs = "";

  it("holds a license email and a sign-in link in the outbox, leaking neither", async () => {
    const app = await start();
    const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const priceId = randomId("price");
    expect((await app.post("/api/v1/admin/products", { slug: "held", name: "Held Editor" }, auth)).status).toBe(201);
    const plan = { product: "held", slug: "held-pro", name: "Pro", seats: 1, durationDays: null, entitlements: [], stripePriceIds: [priceId] };
    expect((await app.post("/api/v1/admin/plans", plan, auth)).status).toBe(201);

    const session = stripe.addCheckoutSession({ email: BUYER }, [{ priceId, quantity: 1 }]);
    const { body, headers } = signedWebhook(stripeEvent("checkout.session.completed", session));
    expect((await app.post("/api/stripe/webhook", body, headers)).status).toBe(200);

    // A sign-in request the way next-auth's client makes one.
    const csrf = await fetch(`${app.url}/api/auth/csrf`);
    const cookie = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const signIn = await fetch(`${app.url}/api/auth/signin/email`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ email: SIGNING_IN, csrfToken, json: "true" }),
      redirect: "manual",
    });
    expect(signIn.status).toBe(200);

    const rows = await eventually(
      async () => {
        const all = await outbox();
        return all.length === 2 && all.every((r) => r.status === "waiting") ? all : undefined;
      },
      30_000,
      "both emails to be waiting",
    );
    expect(rows.map((r) => [r.template, r.to]).sort()).toEqual([
      ["license-issued", BUYER],
      ["sign-in-link", SIGNING_IN],
    ]);
    for (const r of rows) expect(r).toMatchObject({ attempts: 0, lastError: null, sentAt: null, provider: null });

    // What must not leak: the key (both spellings), the link and its token.
    const [license] = await database.db.select().from(licenses);
    key = revealLicenseKey(license!.keyCiphertext);
    const signInRow = rows.find((r) => r.template === "sign-in-link")!;
    link = openSignInUrl(signInRow.props.sealedUrl as string);
    const token = new URL(link).searchParams.get("token")!;
    expect(token.length).toBeGreaterThan(20);
    const secrets = [key, key.replaceAll("-", ""), link, token];

    // Sealed at rest: the outbox holds ids and a sealed link, never the secrets themselves.
    const stored = JSON.stringify(rows);
    for (const s of secrets) expect(stored).not.toContain(s);
    expect(await database.db.select().from(devMailbox)).toHaveLength(0);

    // The dev mailbox does not exist in production: the page is a 404, its procedures refuse.
    expect((await fetch(`${app.url}/dev/mailbox`)).status).toBe(404);
    expect((await app.get("/api/trpc/dev.mailbox.list")).status).toBe(403);

    // The counts the dashboard, setup and emails pages show.
    const summary = await admin().dashboard.summary();
    expect(summary).toMatchObject({ waitingEmails: 2, failedEmails: 0 });
    expect(summary.waitingEmailsMessage).toBe("2 emails waiting for an email provider: set RESEND_API_KEY or SMTP_URL and restart Keystead.");
    const setup = await admin().dashboard.setup();
    const emailCheck = setup.checks.find((c) => c.id === "email")!;
    expect(emailCheck.ok).toBe(false);
    expect(emailCheck.status).toContain("2 emails waiting for an email provider");
    expect(await admin().emails.delivery()).toMatchObject({ waiting: 2, message: summary.waitingEmailsMessage });
    expect((await admin().emails.list({ status: "waiting" })).data).toHaveLength(2);

    // Give a job time to misbehave before reading the log.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await database.db.select().from(devMailbox)).toHaveLength(0);
    firstLogs = app.logs();
    for (const s of secrets) expect(firstLogs).not.toContain(s);
    expect(firstLogs).not.toContain(BUYER);
    await app.stop();
  });

  it("sends every waiting email once after a restart with SMTP configured, and never again", async () => {
    expect(key).not.toBe("");
    const app = await start({ SMTP_URL: catcher.url });
    await catcher.waitFor(2, 30_000);
    await eventually(async () => (await outbox()).every((r) => r.status === "sent"), 30_000, "both rows to be sent");

    const to = (who: string) => catcher.messages.filter((m) => m.to.includes(who));
    expect(to(BUYER)).toHaveLength(1);
    expect(to(BUYER)[0]!.text).toContain(key);
    expect(to(SIGNING_IN)).toHaveLength(1);
    expect(to(SIGNING_IN)[0]!.text).toContain(link);
    for (const r of await outbox()) expect(r).toMatchObject({ status: "sent", attempts: 1, provider: "smtp" });
    expect(app.logs()).toContain("2 email(s) that waited for an email provider are queued now");
    expect((await admin().dashboard.summary()).waitingEmails).toBe(0);
    await app.stop();

    // Another start finds nothing waiting; a stray duplicate job would have had time to show itself.
    const again = await start({ SMTP_URL: catcher.url });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(catcher.messages).toHaveLength(2);
    const ids = (await outbox()).map((r) => r.id);
    const jobs = await database.pool.query("select count(*)::int as n from graphile_worker.jobs where key = any($1)", [ids.map((id) => `email:${id}`)]);
    expect(jobs.rows[0].n).toBe(0);
    expect(await database.db.select().from(emailOutbox).where(inArray(emailOutbox.id, ids))).toHaveLength(2);
    expect(await database.db.select().from(devMailbox).where(eq(devMailbox.to, BUYER))).toHaveLength(0);
    await again.stop();
  });
});
