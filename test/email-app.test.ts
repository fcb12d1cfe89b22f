import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox } from "@/server/db/schema";
import { queueEmail } from "@/server/domain/mail/queue";
import { resetEnvCache } from "@/server/env";
import { eventually, startApp, TEST_AUTH_SECRET, type TestApp } from "./helpers/app";
import { startFakeResend, type FakeResend } from "./helpers/fake-resend";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// The real built app (web + in-process worker) delivering license emails through each provider. Rows are
// written here with the factories; the app's worker picks up the job queueEmail enqueues. Production with no
// provider at all: test/email-waiting-app.test.ts.

beforeAll(() => {
  // Keys are sealed with AUTH_SECRET: this process must seal them the way the app will open them.
  process.env.AUTH_SECRET = TEST_AUTH_SECRET;
  resetEnvCache();
});

async function oweLicenseEmail(app: TestApp, productName: string) {
  const db = app.database.db;
  const product = await makeProduct(db, { name: productName });
  const plan = await makePlan(db, { productId: product.id, name: "Team", seats: 5 });
  const { license, key } = await makeLicense(db, { planId: plan.id, expiresAt: new Date("2030-01-31T00:00:00Z") });
  const to = `buyer-${crypto.randomBytes(3).toString("hex")}@example.com`;
  const outboxId = await db.transaction((tx) =>
    queueEmail(tx, {
      dedupeKey: `license-issued:${license.id}`,
      template: "license-issued",
      to,
      customerId: license.customerId,
      props: { licenseIds: [license.id] },
    }),
  );
  return { outboxId: outboxId!, to, key };
}

const sentRow = (app: TestApp, id: string) =>
  eventually(
    async () => {
      const [row] = await app.database.db.select().from(emailOutbox).where(eq(emailOutbox.id, id));
      return row && row.status !== "pending" ? row : undefined;
    },
    30_000,
    "the outbox row to leave pending",
  );

describe("email through SMTP", () => {
  let app: TestApp;
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    app = await startApp({ env: { SMTP_URL: catcher.url, EMAIL_FROM: "Keystead <licenses@keystead.test>" } });
  });
  afterAll(async () => {
    await app?.stop();
    await catcher?.stop();
  });

  it("is delivered exactly once when the server refuses three times and then accepts", async () => {
    catcher.rejectNext(3, 451, "Greylisted, try again later");
    const { outboxId, to, key } = await oweLicenseEmail(app, "Acme Studio");

    const row = await sentRow(app, outboxId);
    expect(row).toMatchObject({
      status: "sent",
      attempts: 4,
      provider: "smtp",
      subject: "Your license key for Acme Studio",
    });
    // The refusals stay visible after the success.
    expect(row.lastError).toMatch(/451.*Greylisted/);
    expect(row.sentAt).toBeInstanceOf(Date);
    expect(row.providerMessageId).toContain(outboxId);

    // Give a stray duplicate job time to show itself before counting.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(catcher.attempts()).toBe(4);
    const delivered = catcher.messages.filter((m) => m.to.includes(to));
    expect(delivered).toHaveLength(1);
    const [message] = delivered;
    expect(message!.subject).toBe("Your license key for Acme Studio");
    expect(message!.from).toBe("licenses@keystead.test");
    expect(message!.messageId).toBe(`<${outboxId}@keystead.test>`);
    expect(message!.text).toContain(key);
    expect(message!.html).toContain(key);
    expect(message!.text).toContain("January 31, 2030");
    expect(message!.text).toContain(`${app.url}/api/v1/licenses/activate`);
  });
});

describe("email through Resend", () => {
  let app: TestApp;
  let resend: FakeResend;
  beforeAll(async () => {
    resend = await startFakeResend();
    app = await startApp({ env: { RESEND_API_KEY: "re_test_0123456789", RESEND_BASE_URL: resend.url } });
  });
  afterAll(async () => {
    await app?.stop();
    await resend?.stop();
  });

  it("retries with the same Idempotency-Key until Resend accepts, and is delivered once", async () => {
    resend.failNext(2);
    const { outboxId, to, key } = await oweLicenseEmail(app, "Resend Studio");

    const row = await sentRow(app, outboxId);
    expect(row).toMatchObject({ status: "sent", attempts: 3, provider: "resend" });
    expect(row.lastError).toContain("500");

    await new Promise((r) => setTimeout(r, 1_000));
    expect(resend.requests).toHaveLength(3);
    expect(resend.requests.map((r) => r.idempotencyKey)).toEqual([outboxId, outboxId, outboxId]);
    expect(resend.deliveries).toHaveLength(1);
    expect(resend.deliveries[0]!.body).toMatchObject({ to, subject: "Your license key for Resend Studio" });
    expect(resend.deliveries[0]!.body.text).toContain(key);
    expect(row.providerMessageId).toBe(resend.requests[2]!.answer.id);
  });
});
