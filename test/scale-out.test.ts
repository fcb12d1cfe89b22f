import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { checkouts, deliver, notOnce, setUpCatalog, startWorkerProcess, tally, type WorkerProcess } from "./helpers/cluster";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

/**
 * README "Scaling out": two stateless web replicas (WORKER=off) behind one address, two `npm run worker`
 * processes, one PostgreSQL, one Redis (the machine's, under a key prefix of this test's own).
 */
const N = 60;
const LIMIT = 40;

describe("two web replicas and two workers on one database", () => {
  let database: TestDb;
  let stripe: FakeStripe;
  let smtp: SmtpCatcher;
  const webs: TestApp[] = [];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("scaleout");
    stripe = await startFakeStripe();
    smtp = await startSmtpCatcher();
    const env = {
      STRIPE_SECRET_KEY: "sk_test_scale_out",
      STRIPE_API_URL: stripe.url,
      SMTP_URL: smtp.url,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: `keystead-test:${crypto.randomBytes(6).toString("hex")}`,
      RATE_LIMIT_IP: String(LIMIT),
      // A load balancer in front appends the client's address.
      TRUST_PROXY: "1",
    };
    for (let i = 0; i < 2; i++) webs.push(await startApp({ database, env: { ...env, WORKER: "off" } }));
    for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess(database.url, env));
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    for (const a of webs) await a.stop();
    await stripe?.stop();
    await smtp?.stop();
    await database?.drop();
  });

  it("takes checkouts on either replica, issues each license once and mails it once, and activates anywhere", async () => {
    const [a, b] = webs as [TestApp, TestApp];
    const { priceId } = await setUpCatalog(a);
    const list = checkouts(stripe, priceId, N);
    // Stripe delivers each event twice here (a redelivery after a lost answer), to the other replica the second time.
    const first = await deliver([a, b], list);
    const second = await deliver([b, a], list);
    expect(first.every((s) => s === 200) && second.every((s) => s === 200)).toBe(true);

    await smtp.waitFor(N, 90_000);
    const done = await eventually(async () => {
      const t = await tally(database.pool);
      return t.events.processed === N && t.jobs === 0 ? t : undefined;
    }, 30_000, "every event processed and every job done");
    // A moment more for a double to show up, if one were coming.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(done).toMatchObject({ licenses: N, licensedSessions: N, emails: N, emailRecipients: N, emailsSent: N });
    expect(smtp.messages).toHaveLength(N);
    expect(notOnce(smtp.messages.flatMap((m) => m.to), list.map((c) => c.email))).toEqual({});
    // Both workers took a share of the jobs (graphile-worker logs each completed task).
    const ran = workers.map((w) => (w.logs().match(/Completed task/g) ?? []).length);
    expect(ran.every((n) => n > 0)).toBe(true);
    expect(ran[0]! + ran[1]!).toBeGreaterThanOrEqual(2 * N);

    // The key from one email activates through one replica and validates through the other.
    const key = smtp.messages[0]!.text.match(/[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}/)![0];
    const activated = await b.post("/api/v1/licenses/activate", { key, fingerprint: "laptop-1" });
    expect(activated.status).toBe(201);
    const valid = await a.post("/api/v1/licenses/validate", { key, fingerprint: "laptop-1" });
    expect(valid.body).toMatchObject({ valid: true, code: "VALID" });
  });

  it("holds one per-IP limit across both replicas", async () => {
    const [a, b] = webs as [TestApp, TestApp];
    const client = { "x-forwarded-for": "203.0.113.77" };
    const statuses: number[] = [];
    // 30 to each replica: alone, each would allow all 30; together, LIMIT a minute.
    for (let i = 0; i < 30; i++) {
      for (const app of [a, b]) statuses.push((await app.post("/api/v1/licenses/validate", { key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA" }, client)).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - LIMIT);
    // Another client is counted on its own.
    expect((await b.post("/api/v1/licenses/validate", { key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA" }, { "x-forwarded-for": "203.0.113.78" })).status).toBe(200);
  });
});
