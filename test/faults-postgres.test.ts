import { afterAll, describe, expect, it } from "vitest";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { checkouts, deliver, notOnce, setUpCatalog, tally } from "./helpers/cluster";
import type { TestDb } from "./helpers/db";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe";
import { startOwnPostgres, type OwnPostgres } from "./helpers/own-postgres";
import { startFakeResend, type FakeResend } from "./helpers/fake-resend";

/**
 * PostgreSQL stopped under load (our own server: see helpers/own-postgres.ts). The license routes answer 503
 * "try again", never a wrong "invalid"; webhooks that arrive meanwhile get a 5xx, so Stripe redelivers them; and
 * the app recovers by itself within seconds of PostgreSQL coming back.
 */
const DOWN_MS = 4_000;

describe("PostgreSQL stopped under load", () => {
  let pg: OwnPostgres;
  let database: TestDb;
  let stripe: FakeStripe;
  let resend: FakeResend;
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
    await pg?.destroy();
    await stripe?.stop();
    await resend?.stop();
  });

  it("answers 503 while it is away, loses no webhook, and recovers by itself", async () => {
    pg = await startOwnPostgres();
    database = await pg.database("keystead_pgdown");
    stripe = await startFakeStripe();
    resend = await startFakeResend();
    app = await startApp({
      database,
      env: { STRIPE_SECRET_KEY: "sk_test_pgdown", STRIPE_API_URL: stripe.url, RESEND_API_KEY: "re_test_pgdown", RESEND_BASE_URL: resend.url, RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" },
    });
    const { priceId } = await setUpCatalog(app);
    const [first] = checkouts(stripe, priceId, 1);
    expect((await deliver([app], [first!]))[0]).toBe(200);
    await eventually(async () => resend.deliveries.length === 1, 30_000, "the first key email");
    const mail = resend.deliveries[0]!.body;
    const key = String(mail.text ?? mail.html).match(/[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}/)![0];
    expect((await app.post("/api/v1/licenses/activate", { key, fingerprint: "m1" })).status).toBe(201);

    // Load: validations of a good key, and checkouts whose webhooks Stripe redelivers until it gets a 2xx.
    const answers: { at: number; status: number; code: string | undefined }[] = [];
    let loading = true;
    const validations = Array.from({ length: 4 }, async () => {
      while (loading) {
        try {
          const r = await app!.post("/api/v1/licenses/validate", { key, fingerprint: "m1" });
          answers.push({ at: Date.now(), status: r.status, code: r.body?.code ?? r.body?.error?.code });
        } catch {
          answers.push({ at: Date.now(), status: 0, code: "connection failed" });
        }
      }
    });
    const later = checkouts(stripe, priceId, 30);
    const webhookStatuses: number[] = [];
    const webhooks = (async () => {
      let pending = later;
      while (pending.length > 0) {
        const statuses = await deliver([app!], pending, 4);
        webhookStatuses.push(...statuses);
        pending = pending.filter((_, i) => statuses[i] !== 200);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    await new Promise((r) => setTimeout(r, 1_000));
    await pg.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await pg.start();
    const startedAt = Date.now();
    const recovered = await eventually(
      async () => answers.find((a) => a.at > startedAt && a.status === 200 && a.code === "VALID"),
      30_000,
      "a VALID answer after PostgreSQL came back",
    );
    await new Promise((r) => setTimeout(r, 1_000));
    loading = false;
    await Promise.all(validations);
    await webhooks;

    const during = answers.filter((a) => a.at > stoppedAt + 200 && a.at < startedAt);
    const codes = (list: typeof answers) => [...new Set(list.map((a) => `${a.status} ${a.code}`))].sort();
    const secondsToRecover = (recovered.at - startedAt) / 1000;
    console.log(
      `[pg-down] ${answers.length} validations: during the outage ${JSON.stringify(codes(during))} (${during.length}); all ${JSON.stringify(codes(answers))}; ` +
        `recovered ${secondsToRecover} s after PostgreSQL was back; webhooks: ${webhookStatuses.filter((s) => s !== 200).length} refused then redelivered`,
    );
    // Never a wrong conclusion: every answer is VALID or a 503 "try again".
    expect(codes(answers).every((c) => c === "200 VALID" || c === "503 UNAVAILABLE")).toBe(true);
    expect(during.length).toBeGreaterThan(0);
    expect(codes(during)).toEqual(["503 UNAVAILABLE"]);
    expect(secondsToRecover).toBeLessThan(10);
    // And it stays up.
    expect(answers.filter((a) => a.at > recovered.at).every((a) => a.code === "VALID")).toBe(true);

    // No webhook lost: those refused with a 5xx were redelivered, and each checkout is licensed and mailed once.
    expect(webhookStatuses.filter((s) => s !== 200).every((s) => s >= 500 || s === 0)).toBe(true);
    await eventually(async () => new Set(resend.deliveries.map((d) => d.idempotencyKey)).size >= 31, 60_000, "31 emails");
    const t = await eventually(async () => {
      const x = await tally(database.pool);
      return x.licensedSessions === 31 && x.emailsSent === 31 ? x : undefined;
    }, 30_000, "every checkout licensed and mailed");
    expect(t.licenses).toBe(31);
    await new Promise((r) => setTimeout(r, 500));
    // An email whose send reached the provider while its row could not be marked sent (the database went away at
    // that moment) is sent again, with the same idempotency key: the provider delivers it once (SMTP has no such
    // key: there it would arrive twice, with the same Message-ID).
    const repeats = resend.requests.filter((r) => r.answer.status === 200).length - resend.deliveries.length;
    console.log(`[pg-down] emails: ${resend.deliveries.length} delivered, ${repeats} repeated sends answered from the idempotency key`);
    expect(notOnce(resend.deliveries.flatMap((d) => (Array.isArray(d.body.to) ? d.body.to : [d.body.to])), [first!, ...later].map((c) => c.email))).toEqual({});
  }, 180_000);
});
