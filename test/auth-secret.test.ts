import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, signingKeys } from "@/server/db/schema";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { runToExit, tsxCli, WORKER_ENTRY } from "./helpers/processes";
import { askForLink, browserless, signInByEmail, type Browserless } from "./helpers/sign-in";
import { signInLinkIn } from "./helpers/browser";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

/**
 * Rotating AUTH_SECRET against the real app on one database across restarts: what secret A sealed (license keys,
 * the signing key, emails waiting in the outbox) keeps working under B with AUTH_SECRET_PREVIOUS=A, `npm run reseal`
 * moves it all to B, and then B alone is enough. A wrong secret stops start-up with one line.
 */
const SECRET_A = "rotation-secret-a-0123456789abcdef";
const SECRET_B = "rotation-secret-b-0123456789abcdef";
const ADMIN = "boss@example.com";
const bootstrap = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

const reseal = (database: TestDb, env: Record<string, string>) => runToExit([tsxCli, "scripts/reseal.ts"], { DATABASE_URL: database.url, ...env }, 60_000);

describe("rotating AUTH_SECRET", () => {
  let database: TestDb;
  let smtp: SmtpCatcher;
  const running: TestApp[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await startApp({ database, env: { ADMIN_EMAILS: ADMIN, SMTP_URL: smtp.url, ...env } });
    running.push(app);
    return app;
  };

  beforeAll(async () => {
    database = await createTestDatabase("rotation");
    smtp = await startSmtpCatcher();
  });
  afterAll(async () => {
    for (const app of running) await app.stop();
    await smtp?.stop();
    await database?.drop();
  });

  it("opens what the previous secret sealed, reseals it under the new one, and refuses a wrong one in one line", async () => {
    // Secret A, web only: the key is issued and activated; its email and a sign-in link wait in the outbox.
    const a = await start({ AUTH_SECRET: SECRET_A, WORKER: "off" });
    expect((await a.post("/api/v1/admin/products", { slug: "rot-app", name: "Rotation App" }, bootstrap)).status).toBe(201);
    const plan = { product: "rot-app", slug: "rot-pro", name: "Pro", seats: 3, durationDays: null, entitlements: [], stripePriceIds: [] };
    expect((await a.post("/api/v1/admin/plans", plan, bootstrap)).status).toBe(201);
    const issued = await a.post("/api/v1/admin/licenses", { plan: "rot-pro", email: "rita@example.com" }, bootstrap);
    expect(issued.status).toBe(201);
    const key: string = issued.body.key;
    const licenseId: string = issued.body.license.id;
    expect((await a.post("/api/v1/licenses/activate", { key, fingerprint: "under-a" })).status).toBe(201);
    expect((await askForLink(browserless(a.url), "rita@example.com", "/portal")).status).toBe(200);
    const waiting = await database.db.select().from(emailOutbox);
    expect(waiting.map((e) => [e.template, e.status]).sort()).toEqual([
      ["license-issued", "pending"],
      ["sign-in-link", "pending"],
    ]);
    await a.stop();

    // Secret B with A as the previous one, worker on: everything A sealed still opens.
    const b = await start({ AUTH_SECRET: SECRET_B, AUTH_SECRET_PREVIOUS: SECRET_A });
    await smtp.waitFor(2, 30_000);
    const keyMail = smtp.messages.find((m) => m.text.includes(key));
    const linkMail = smtp.messages.find((m) => signInLinkIn(m.text));
    expect(keyMail, "the waiting license email went out with the key sealed under A").toBeDefined();
    expect(linkMail?.to, "the waiting sign-in link sealed under A went out").toEqual(["rita@example.com"]);
    expect((await b.post("/api/v1/licenses/activate", { key, fingerprint: "under-b" })).status).toBe(201);
    expect((await b.post("/api/v1/licenses/heartbeat", { key, fingerprint: "under-a" })).status).toBe(200);
    const admin = browserless(b.url);
    await signInByEmail(admin, smtp, ADMIN, "/admin");
    await expectAdminReveals(admin, licenseId, key);

    // The reseal, while the app runs; a second run finds nothing left to do.
    const first = await reseal(database, { AUTH_SECRET: SECRET_B, AUTH_SECRET_PREVIOUS: SECRET_A });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain("licenses.key_ciphertext: 1 resealed, 0 already current, 0 unreadable");
    expect(first.output).toContain("signing_keys.private_key_ciphertext: 1 resealed, 0 already current, 0 unreadable");
    // The link A sealed, and the one B sealed for the admin just now.
    expect(first.output).toContain("email_outbox.props.sealedUrl: 1 resealed, 1 already current, 0 unreadable");
    const second = await reseal(database, { AUTH_SECRET: SECRET_B, AUTH_SECRET_PREVIOUS: SECRET_A });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(/licenses\.key_ciphertext: 0 resealed, 1 already current, 0 unreadable/);
    expect(second.output).toMatch(/email_outbox\.props\.sealedUrl: 0 resealed, 2 already current, 0 unreadable/);
    await b.stop();

    // B alone: the key, the signing key and the admin's session (stored as a hash, not keyed by the secret) all work.
    const bOnly = await start({ AUTH_SECRET: SECRET_B });
    expect((await bOnly.post("/api/v1/licenses/activate", { key, fingerprint: "after-reseal" })).status).toBe(201);
    expect((await bOnly.post("/api/v1/licenses/heartbeat", { key, fingerprint: "under-b" })).status).toBe(200);
    const sameAdmin = browserless(bOnly.url);
    sameAdmin.jar.set("next-auth.session-token", admin.jar.get("next-auth.session-token")!);
    await expectAdminReveals(sameAdmin, licenseId, key);
    await bOnly.stop();

    // A secret that sealed nothing here, and no previous one: start-up stops with one line naming both settings.
    let failure = "";
    await start({ AUTH_SECRET: "a-wrong-secret-0123456789abcdef" }).catch((err: Error) => (failure = err.message));
    const lines = failure.split("\n").filter((l) => l.includes("AUTH_SECRET"));
    expect(lines).toEqual([expect.stringMatching(/^Invalid setting AUTH_SECRET: the stored signing key was sealed under another secret: .*AUTH_SECRET_PREVIOUS/)]);
    // Reseal without the previous secret cannot open the values either, and says so instead of succeeding.
    const wrong = await reseal(database, { AUTH_SECRET: SECRET_A });
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/^Invalid setting AUTH_SECRET: the stored signing key was sealed under another secret/m);
  }, 300_000); // four app starts and three reseal runs: generous for a loaded machine

  async function expectAdminReveals(client: Browserless, licenseId: string, key: string) {
    const res = await client.request("/api/admin/export/json?keys=clear");
    expect(res.status).toBe(200);
    const license = (await res.json()).tables.licenses.find((l: { id: string }) => l.id === licenseId);
    expect(license).toMatchObject({ key });
  }
});

describe("entry points without AUTH_SECRET", () => {
  const databases: TestDb[] = [];
  afterAll(async () => {
    for (const d of databases) await d.drop();
  });

  it.each([
    ["`npm run worker` with NODE_ENV unset", [WORKER_ENTRY], {}, /^Invalid setting AUTH_SECRET: is required \(only NODE_ENV=development or test/m],
    ["`npm run worker` in production", [WORKER_ENTRY], { NODE_ENV: "production" }, /^Invalid setting AUTH_SECRET: is required in production$/m],
    ["`npm run reseal`", [tsxCli, "scripts/reseal.ts"], {}, /^Invalid setting AUTH_SECRET: is required \(only NODE_ENV=development or test/m],
  ])("%s stops with the one line and seals nothing", async (_name, entry, env, line) => {
    const database = await createTestDatabase("nosecret");
    databases.push(database);
    const { code, output } = await runToExit(entry, { DATABASE_URL: database.url, ...env }, 60_000);
    expect(code).not.toBe(0);
    expect(output.split("\n").filter((l) => l.includes("AUTH_SECRET"))).toEqual([expect.stringMatching(line)]);
    expect(await database.db.select().from(signingKeys)).toEqual([]);
  }, 90_000);
});
