import crypto from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { Logger, runOnce } from "graphile-worker";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { TRPCError } from "@trpc/server";
import { createCaller } from "@/server/api/root";
import { closeDb, createPool, dbFromPool } from "@/server/db/client";
import { devMailbox, emailOutbox } from "@/server/db/schema";
import { deliverOutboxEmail, MAX_EMAIL_ATTEMPTS } from "@/server/domain/mail/deliver";
import { queueEmail } from "@/server/domain/mail/queue";
import { renderEmail } from "@/server/domain/mail/render";
import { sendEmail } from "@/server/domain/mail/send-email";
import { releaseWaitingEmails } from "@/server/domain/mail/waiting";
import { backoffDelayMs } from "@/server/jobs/enqueue";
import { taskList } from "@/server/jobs/tasks";
import { env, resetEnvCache } from "@/server/env";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { startFakeResend, type FakeResend } from "./helpers/fake-resend";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// Domain-level delivery tests: the real render, providers and row locking against a real PostgreSQL, with a
// local SMTP server and a local Resend API standing in for the outside world.

let database: TestDb;
let catcher: SmtpCatcher;
let resend: FakeResend;

beforeAll(async () => {
  database = await createTestDatabase("mail");
  await useProcessDatabase(database.url);
  catcher = await startSmtpCatcher();
  resend = await startFakeResend();
});

afterAll(async () => {
  useMailSettings({});
  await catcher?.stop();
  await resend?.stop();
  await closeDb();
  await database?.drop();
});

afterEach(() => {
  catcher.rejectNext(0);
  resend.failNext(0);
  vi.restoreAllMocks();
});

const TEST_NODE_ENV = process.env.NODE_ENV;

/**
 * Switches this process's email provider (settings are parsed once, so the cache is reset). NODE_ENV stays
 * vitest's "test" (development semantics: the dev mailbox is on) unless a test asks for production.
 */
function useMailSettings(settings: { SMTP_URL?: string; RESEND_API_KEY?: string; RESEND_BASE_URL?: string; NODE_ENV?: "production" }) {
  for (const name of ["SMTP_URL", "RESEND_API_KEY", "RESEND_BASE_URL"]) delete process.env[name];
  Object.assign(process.env, { NODE_ENV: TEST_NODE_ENV }, settings);
  resetEnvCache();
}

/** One license (or several) of a fresh product, and the license-issued email owed for them. */
async function oweLicenseEmail(
  opts: { productName?: string; licenses?: Array<Parameters<typeof makePlan>[1] & { expiresAt?: Date | null }> } = {},
) {
  const product = await makeProduct(database.db, opts.productName ? { name: opts.productName } : {});
  const issued: Array<Awaited<ReturnType<typeof makeLicense>> & { plan: Awaited<ReturnType<typeof makePlan>> }> = [];
  for (const spec of opts.licenses ?? [{}]) {
    const { expiresAt, ...planOver } = spec;
    const plan = await makePlan(database.db, { productId: product.id, ...planOver });
    issued.push({ plan, ...(await makeLicense(database.db, { planId: plan.id, expiresAt })) });
  }
  const to = `buyer-${crypto.randomBytes(3).toString("hex")}@example.com`;
  const outboxId = await database.db.transaction((tx) =>
    queueEmail(tx, {
      dedupeKey: `test:${crypto.randomUUID()}`,
      template: "license-issued",
      to,
      props: { licenseIds: issued.map((i) => i.license.id) },
    }),
  );
  return { outboxId: outboxId!, to, product, issued };
}

const outboxRow = async (id: string) =>
  (await database.db.select().from(emailOutbox).where(eq(emailOutbox.id, id)))[0]!;

describe("rendering the license-issued email", () => {
  it("shows every key in full with product, plan, seats, expiry and entitlements; the outbox stores no key", async () => {
    const { outboxId, issued } = await oweLicenseEmail({
      productName: "Acme Studio",
      licenses: [
        {
          name: "Pro yearly",
          seats: 3,
          entitlements: ["export-4k", "cloud-sync"],
          expiresAt: new Date("2031-05-17T09:00:00Z"),
        },
        { name: "Lifetime", seats: 1, expiresAt: null },
      ],
    });
    const row = await outboxRow(outboxId);
    const stored = JSON.stringify(row);
    for (const { key } of issued) {
      expect(stored).not.toContain(key);
      expect(stored).not.toContain(key.replaceAll("-", ""));
    }

    const email = await renderEmail(database.db, row);
    expect(email.subject).toBe("Your 2 license keys for Acme Studio");
    for (const body of [email.text, email.html]) {
      expect(body).toContain(issued[0]!.key);
      expect(body).toContain(issued[1]!.key);
      expect(body).toContain("Acme Studio");
      expect(body).toContain("Pro yearly");
      expect(body).toContain("Lifetime");
      expect(body).toContain("3 seats");
      expect(body).toContain("1 seat ");
      expect(body).toContain("May 17, 2031");
      expect(body).toContain("Never expires");
      expect(body).toContain("export-4k, cloud-sync");
      expect(body).toContain(`${env().APP_URL}/api/v1/licenses/activate`);
    }
    expect(email.html).toContain(`href="${env().APP_URL}"`);
  });

  it("names the product in the subject of a single-key email", async () => {
    const { outboxId } = await oweLicenseEmail({ productName: "Widget Pro" });
    const email = await renderEmail(database.db, await outboxRow(outboxId));
    expect(email.subject).toBe("Your license key for Widget Pro");
  });
});

describe("delivering an outbox email", () => {
  it("marks the row failed with the reason, and sends nothing, when a license no longer exists", async () => {
    useMailSettings({ SMTP_URL: catcher.url });
    const missing = crypto.randomUUID();
    const outboxId = await database.db.transaction((tx) =>
      queueEmail(tx, {
        dedupeKey: `test:${crypto.randomUUID()}`,
        template: "license-issued",
        to: "gone@example.com",
        props: { licenseIds: [missing] },
      }),
    );
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const before = catcher.attempts();
    const outcome = await deliverOutboxEmail(database.db, outboxId!);
    expect(outcome.outcome).toBe("failed");
    const row = await outboxRow(outboxId!);
    expect(row).toMatchObject({ status: "failed", attempts: 1, sentAt: null });
    expect(row.lastError).toContain(missing);
    expect(catcher.attempts()).toBe(before);
  });

  it("records each refusal, reschedules with growing backoff (capped at an hour), and gives up after MAX_EMAIL_ATTEMPTS", async () => {
    useMailSettings({ SMTP_URL: catcher.url });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    catcher.rejectNext(1_000, 451, "Mailbox busy, try later");
    const { outboxId } = await oweLicenseEmail();
    const base = env().RETRY_BASE_MS;

    for (let attempt = 1; attempt < MAX_EMAIL_ATTEMPTS; attempt++) {
      const startedAt = Date.now();
      const outcome = await deliverOutboxEmail(database.db, outboxId);
      expect(outcome.outcome).toBe("retrying");
      const row = await outboxRow(outboxId);
      expect(row).toMatchObject({ status: "pending", attempts: attempt });
      expect(row.lastError).toMatch(/451.*Mailbox busy/);
      const delay = row.nextAttemptAt!.getTime() - startedAt;
      expect(delay).toBeGreaterThanOrEqual(backoffDelayMs(attempt, base) - 50);
      expect(delay).toBeLessThan(backoffDelayMs(attempt, base) + 5_000);
      // The retry job is scheduled for the same moment, in the same transaction.
      const jobs = await database.db.execute<{ run_at: Date }>(
        sql`select run_at from graphile_worker.jobs where key = ${`email:${outboxId}`}`,
      );
      expect(jobs.rows).toHaveLength(1);
      expect(new Date(jobs.rows[0]!.run_at).getTime()).toBe(row.nextAttemptAt!.getTime());
    }

    const last = await deliverOutboxEmail(database.db, outboxId);
    expect(last.outcome).toBe("failed");
    const row = await outboxRow(outboxId);
    expect(row).toMatchObject({ status: "failed", attempts: MAX_EMAIL_ATTEMPTS, nextAttemptAt: null, sentAt: null });
    expect(row.lastError).toContain("451");
    expect(catcher.messages.filter((m) => m.to.includes(row.to))).toHaveLength(0);

    // A stray job for a failed row does nothing.
    expect(await deliverOutboxEmail(database.db, outboxId)).toEqual({ outcome: "skipped", reason: "failed" });
    expect((await outboxRow(outboxId)).attempts).toBe(MAX_EMAIL_ATTEMPTS);
  });

  it("sends once when several jobs for the same row run at the same time", async () => {
    useMailSettings({ RESEND_API_KEY: "re_test_key", RESEND_BASE_URL: resend.url });
    const { outboxId } = await oweLicenseEmail();
    const before = resend.requests.length;

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => deliverOutboxEmail(database.db, outboxId)));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["sent", "skipped", "skipped", "skipped", "skipped"]);
    // Counted at the HTTP level: the row lock, not Resend's idempotency, kept the second job from sending.
    expect(resend.requests.length - before).toBe(1);
    expect((await outboxRow(outboxId)).attempts).toBe(1);
  });

  it("sends through Resend with the outbox id as Idempotency-Key on every retry", async () => {
    useMailSettings({ RESEND_API_KEY: "re_test_key", RESEND_BASE_URL: resend.url });
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { outboxId, to, issued } = await oweLicenseEmail({ productName: "Resend Product" });
    resend.failNext(2);

    expect((await deliverOutboxEmail(database.db, outboxId)).outcome).toBe("retrying");
    expect((await outboxRow(outboxId)).lastError).toContain("The fake Resend is having an outage");
    expect((await deliverOutboxEmail(database.db, outboxId)).outcome).toBe("retrying");
    expect((await deliverOutboxEmail(database.db, outboxId)).outcome).toBe("sent");

    const mine = resend.requests.filter(
      (r) => r.body.to === to || (Array.isArray(r.body.to) && r.body.to.includes(to)),
    );
    expect(mine).toHaveLength(3);
    expect(mine.map((r) => r.idempotencyKey)).toEqual([outboxId, outboxId, outboxId]);
    expect(mine[0]!.authorization).toBe("Bearer re_test_key");
    const delivered = resend.deliveries.filter((r) => r.idempotencyKey === outboxId);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.body).toMatchObject({
      from: env().EMAIL_FROM,
      subject: "Your license key for Resend Product",
    });
    expect(delivered[0]!.body.text).toContain(issued[0]!.key);

    const row = await outboxRow(outboxId);
    expect(row).toMatchObject({
      status: "sent",
      attempts: 3,
      provider: "resend",
      providerMessageId: mine[2]!.answer.id,
    });
  });

  it("with no provider, puts the email in the dev mailbox and logs the key", async () => {
    useMailSettings({});
    const logs: string[] = [];
    // The app's logger writes JSON lines to stdout (server/observability/log.ts).
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (logs.push(String(chunk)), true));
    const { outboxId, to, issued } = await oweLicenseEmail({ productName: "Dev Product" });

    expect((await deliverOutboxEmail(database.db, outboxId)).outcome).toBe("sent");
    const [saved] = await database.db.select().from(devMailbox).where(eq(devMailbox.outboxId, outboxId));
    expect(saved).toMatchObject({ to, subject: "Your license key for Dev Product", from: env().EMAIL_FROM });
    expect(saved!.text).toContain(issued[0]!.key);
    expect(saved!.html).toContain(issued[0]!.key);
    expect(await outboxRow(outboxId)).toMatchObject({ status: "sent", provider: "dev", providerMessageId: saved!.id });
    const logged = logs.join("\n");
    expect(logged).toContain(to);
    expect(logged).toContain("Your license key for Dev Product");
    expect(logged).toContain(issued[0]!.key);
  });

  it("runs as the send_email job that queueEmail enqueues", async () => {
    useMailSettings({ SMTP_URL: catcher.url });
    const { outboxId, to, issued } = await oweLicenseEmail({ productName: "Job Product" });
    await runOnce({ pgPool: database.pool, taskList, logger: new Logger(() => () => undefined) });

    expect(await outboxRow(outboxId)).toMatchObject({ status: "sent", attempts: 1, provider: "smtp" });
    const caught = catcher.messages.filter((m) => m.to.includes(to));
    expect(caught).toHaveLength(1);
    expect(caught[0]!.subject).toBe("Your license key for Job Product");
    expect(caught[0]!.messageId).toContain(outboxId);
    expect(caught[0]!.text).toContain(issued[0]!.key);
  });
});

describe("production with no email provider", () => {
  const jobKeys = async () =>
    (await database.pool.query<{ key: string }>("select key from graphile_worker.jobs where task_identifier = 'send_email'")).rows.map(
      (r) => r.key,
    );
  const clearJobs = () => database.pool.query("delete from graphile_worker._private_jobs where key like 'email:%'");
  afterEach(() => useMailSettings({}));

  it("holds the email in the outbox: waiting, no attempt spent, nothing in the dev mailbox or the log", async () => {
    useMailSettings({ NODE_ENV: "production" });
    const printed: string[] = [];
    for (const level of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void printed.push(args.join(" ")));
    }
    // The app's logger writes JSON lines to stdout (server/observability/log.ts).
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => (printed.push(String(chunk)), true));
    const { outboxId, issued } = await oweLicenseEmail({ productName: "Held Product" });

    expect(await deliverOutboxEmail(database.db, outboxId)).toEqual({ outcome: "waiting" });
    const row = await outboxRow(outboxId);
    expect(row).toMatchObject({ status: "waiting", attempts: 0, lastError: null, nextAttemptAt: null, sentAt: null, subject: null });
    expect(JSON.stringify(row)).not.toContain(issued[0]!.key);
    expect(await database.db.select().from(devMailbox).where(eq(devMailbox.outboxId, outboxId))).toHaveLength(0);
    expect(printed.join("\n")).not.toContain(issued[0]!.key);
    // A second job for the row (a duplicate, a retry) leaves it as it is.
    expect(await deliverOutboxEmail(database.db, outboxId)).toEqual({ outcome: "skipped", reason: "waiting" });
    expect(await outboxRow(outboxId)).toMatchObject({ status: "waiting", attempts: 0 });
  });

  it("a start with a provider queues every waiting email exactly once, even when two processes start together", async () => {
    useMailSettings({ NODE_ENV: "production" });
    await clearJobs();
    // Waiting rows left by the test above are owed too.
    const earlier = await database.db.select({ id: emailOutbox.id }).from(emailOutbox).where(eq(emailOutbox.status, "waiting"));
    // More than one batch, so both processes loop while the other holds rows.
    const fresh = await database.db
      .insert(emailOutbox)
      .values(
        Array.from({ length: 1_100 }, (_, i) => ({
          dedupeKey: `held:${crypto.randomUUID()}`,
          template: "license-issued",
          to: `held-${i}@example.com`,
          props: { licenseIds: [crypto.randomUUID()] },
          status: "waiting" as const,
        })),
      )
      .returning({ id: emailOutbox.id });
    const owed = [...earlier, ...fresh];
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    // Still no provider: a start only says how many wait.
    expect(await releaseWaitingEmails(database.db)).toBe(0);
    expect(await jobKeys()).toEqual([]);

    useMailSettings({ NODE_ENV: "production", SMTP_URL: catcher.url });
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    // Two processes: two pools, two connections each, released at the same moment.
    const other = createPool(database.url, 2);
    try {
      const [a, b] = await Promise.all([releaseWaitingEmails(database.db), releaseWaitingEmails(dbFromPool(other))]);
      expect(a + b).toBe(owed.length);
    } finally {
      await other.end();
    }
    const keys = await jobKeys();
    expect(keys).toHaveLength(owed.length);
    expect(new Set(keys)).toEqual(new Set(owed.map((o) => `email:${o.id}`)));
    const [left] = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(emailOutbox)
      .where(eq(emailOutbox.status, "waiting"));
    expect(left!.n).toBe(0);
    // A later start finds nothing left to queue.
    expect(await releaseWaitingEmails(database.db)).toBe(0);
    expect(await jobKeys()).toHaveLength(owed.length);
    await clearJobs();
    await database.db.delete(emailOutbox).where(inArray(emailOutbox.id, owed.map((o) => o.id)));
  });

  it("the dev mailbox never takes it, even if sendEmail is reached", async () => {
    useMailSettings({ NODE_ENV: "production" });
    await expect(
      sendEmail(database.db, { outboxId: crypto.randomUUID(), to: "x@example.com", subject: "s", html: "<p>h</p>", text: "t" }),
    ).rejects.toThrow(/No email provider/);
  });
});

describe("the dev mailbox procedures", () => {
  const caller = () => createCaller({ db: database.db, session: null, headers: new Headers() });

  it("list newest first and open a message, when no provider is configured", async () => {
    useMailSettings({});
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const first = await oweLicenseEmail({ productName: "First Product" });
    await deliverOutboxEmail(database.db, first.outboxId);
    const second = await oweLicenseEmail({ productName: "Second Product" });
    await deliverOutboxEmail(database.db, second.outboxId);

    const list = await caller().dev.mailbox.list();
    expect(list[0]).toMatchObject({ to: second.to, subject: "Your license key for Second Product" });
    expect(list[1]).toMatchObject({ to: first.to, subject: "Your license key for First Product" });
    const message = await caller().dev.mailbox.get({ id: list[0]!.id });
    expect(message.html).toContain(second.issued[0]!.key);

    await expect(caller().dev.mailbox.get({ id: crypto.randomUUID() })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("are forbidden while a real provider is configured", async () => {
    useMailSettings({ SMTP_URL: catcher.url });
    const err = await caller()
      .dev.mailbox.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect(err).toMatchObject({ code: "FORBIDDEN", cause: { code: "FORBIDDEN" } });
  });
});
