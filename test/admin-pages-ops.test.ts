import crypto from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { jwtVerify, createLocalJWKSet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import { apiTokens, appState, auditLog, emailOutbox, signingKeys, stripeEvents } from "@/server/db/schema";
import { authenticateApiToken, hashApiToken } from "@/server/domain/admin/api-tokens";
import { recordAudit } from "@/server/domain/audit/record";
import { WEBHOOK_LAST_SEEN_KEY } from "@/server/domain/billing/webhook";
import { queueEmail } from "@/server/domain/mail/queue";
import { lookupLicense } from "@/server/domain/licensing/lookup";
import { hashLicenseKey } from "@/server/domain/licensing/license-key";
import { issueOfflineToken } from "@/server/domain/tokens/offline-token";
import { ensureSigningKey, publishedKeys } from "@/server/domain/tokens/keyring";
import { TemplatePropsSchemas } from "@/emails";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { adminSession, appCode } from "./helpers/trpc";
import { makeLicense, makePlan } from "./helpers/factories";

// Stripe events, the email outbox, settings and the audit log in the admin app, through the tRPC router.

const ADMIN_EMAIL = "ops-admin@example.com";
const admin = adminSession(ADMIN_EMAIL);
const uniq = () => crypto.randomBytes(3).toString("hex");

let database: TestDb;
const caller = () => createCaller({ db: database.db, session: admin, headers: new Headers() });

beforeAll(async () => {
  database = await createTestDatabase("adminops");
});
afterAll(async () => {
  await database?.drop();
});


const jobKeys = async (task: string) =>
  (await database.db.execute<{ key: string | null }>(sql`select key from graphile_worker.jobs where task_identifier = ${task}`)).rows.map(
    (r) => r.key,
  );

async function storeEvent(over: Partial<typeof stripeEvents.$inferInsert> = {}) {
  const [row] = await database.db
    .insert(stripeEvents)
    .values({ id: `evt_${uniq()}`, type: "checkout.session.completed", stripeCreatedAt: new Date(), payload: { hello: 1 }, ...over })
    .returning();
  return row!;
}

describe("Stripe events", () => {
  it("lists newest first with filters by status and type, paging by keyset", async () => {
    const tag = uniq();
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await storeEvent({
          type: i % 2 ? `invoice.paid` : `checkout.session.completed`,
          status: i === 3 ? "failed" : "processed",
          objectId: `obj_${tag}`,
          lastError: i === 3 ? "Stripe said no" : null,
          receivedAt: new Date(Date.now() + i * 1000),
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await caller().stripeEvents.list({ q: `obj_${tag}`, limit: 2, cursor });
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(made.map((e) => e.id).reverse());

    const failed = await caller().stripeEvents.list({ status: "failed", q: `obj_${tag}` });
    expect(failed.data.map((e) => [e.id, e.lastError])).toEqual([[made[3]!.id, "Stripe said no"]]);
    const invoices = await caller().stripeEvents.list({ type: "invoice.", q: `obj_${tag}` });
    expect(invoices.data).toHaveLength(2);
    expect(await appCode(caller().stripeEvents.list({ cursor: "garbage" }))).toBe("BAD_REQUEST");
  });

  it("shows what an event did: its result, payload and the audit rows it wrote", async () => {
    const event = await storeEvent({ status: "processed", result: { licensesIssued: 1 } });
    const plan = await makePlan(database.db);
    const { license } = await makeLicense(database.db, { planId: plan.id });
    await recordAudit(database.db, { type: "stripe", id: event.id }, { action: "license.renewed", subjectType: "license", subjectId: license.id });
    const detail = await caller().stripeEvents.get({ id: event.id });
    expect(detail.event).toMatchObject({ id: event.id, status: "processed", result: { licensesIssued: 1 }, payload: { hello: 1 } });
    expect(detail.audit.map((a) => a.action)).toEqual(["license.renewed"]);
    expect(detail.licenseIds).toEqual([license.id]);
    expect(await appCode(caller().stripeEvents.get({ id: "evt_missing" }))).toBe("NOT_FOUND");
  });

  it("replays a failed event: pending again and its job queued, in one transaction, audited", async () => {
    const event = await storeEvent({ status: "failed", attempts: 12, lastError: "boom" });
    const replayed = await caller().stripeEvents.replay({ id: event.id });
    expect(replayed).toMatchObject({ status: "pending", attempts: 0, lastError: null });
    expect(await jobKeys("process_stripe_event")).toContain(`stripe-event:${event.id}`);
    const [audit] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectType, "stripe_event"), eq(auditLog.subjectId, event.id)));
    expect(audit).toMatchObject({ action: "stripe_event.replayed", actorType: "admin", actorId: ADMIN_EMAIL, before: { status: "failed" } });
    expect(await appCode(caller().stripeEvents.replay({ id: "evt_missing" }))).toBe("NOT_FOUND");
  });
});

describe("emails", () => {
  async function owe(to = `m-${uniq()}@example.com`) {
    const plan = await makePlan(database.db);
    const { license } = await makeLicense(database.db, { planId: plan.id });
    const id = await database.db.transaction((tx) =>
      queueEmail(tx, { dedupeKey: `t:${uniq()}`, template: "license-issued", to, customerId: license.customerId, props: { licenseIds: [license.id] } }),
    );
    return id!;
  }

  it("lists the outbox with status, attempts and last error, filtered by status and recipient", async () => {
    const to = `outbox-${uniq()}@example.com`;
    const id = await owe(to);
    await database.db.update(emailOutbox).set({ status: "failed", attempts: 10, lastError: "SMTP: 550 mailbox unavailable" }).where(eq(emailOutbox.id, id));
    const page = await caller().emails.list({ status: "failed", to: to.slice(0, 12).toUpperCase() });
    expect(page.data.map((e) => [e.id, e.status, e.attempts, e.lastError])).toEqual([[id, "failed", 10, "SMTP: 550 mailbox unavailable"]]);
    expect((await caller().emails.get({ id })).props).toMatchObject({ licenseIds: expect.any(Array) });
  });

  it("retries a failed email (reset and re-queued together), and refuses to send a sent one twice", async () => {
    const id = await owe();
    await database.db.execute(sql`delete from graphile_worker._private_jobs where key = ${`email:${id}`}`);
    await database.db.update(emailOutbox).set({ status: "failed", attempts: 10, lastError: "nope" }).where(eq(emailOutbox.id, id));
    const retried = await caller().emails.retry({ id });
    expect(retried).toMatchObject({ status: "pending", attempts: 0 });
    expect(await jobKeys("send_email")).toContain(`email:${id}`);
    const [audit] = await database.db.select().from(auditLog).where(and(eq(auditLog.subjectType, "email"), eq(auditLog.subjectId, id)));
    expect(audit).toMatchObject({ action: "email.retried", actorType: "admin", before: { status: "failed", lastError: "nope" } });

    await database.db.update(emailOutbox).set({ status: "sent" }).where(eq(emailOutbox.id, id));
    expect(await appCode(caller().emails.retry({ id }))).toBe("INVALID_STATE");
  });

  it("previews every registered template with its PreviewProps", async () => {
    const templates = await caller().emails.templates();
    expect([...templates].sort()).toEqual(Object.keys(TemplatePropsSchemas).sort());
    for (const template of templates) {
      const preview = await caller().emails.preview({ template });
      expect(preview.subject.length, template).toBeGreaterThan(3);
      expect(preview.html, template).toMatch(/<html/i);
      expect(preview.text.length, template).toBeGreaterThan(20);
    }
    const rotated = await caller().emails.preview({ template: "license-key-rotated" });
    expect(rotated.text).toContain("7K3QF-9XW2M-HB4RT-0ZC8N-VD6PJ");
  });
});

describe("settings", () => {
  it("rotates the signing key: a new kid signs, the old one stays published for the longest token lifetime", async () => {
    await ensureSigningKey(database.db);
    const plan = await makePlan(database.db, { offlineTokenTtlSeconds: 30 * 86_400 });
    const { key } = await makeLicense(database.db, { planId: plan.id });
    const found = await lookupLicense(database.db, hashLicenseKey(key)!);
    const oldToken = await issueOfflineToken(database.db, found!.license, "machine");

    const before = await caller().settings.signingKeys();
    const signingBefore = before.find((k) => k.state === "signing")!;
    const { kid, keepPublishedSeconds } = await caller().settings.rotateSigningKey();
    expect(keepPublishedSeconds).toBe(30 * 86_400);
    const after = await caller().settings.signingKeys();
    expect(after.find((k) => k.state === "signing")!.kid).toBe(kid);
    const retired = after.find((k) => k.kid === signingBefore.kid)!;
    expect(retired.state).toBe("published");
    expect(new Date(retired.unpublishAt!).getTime() - new Date(retired.retiredAt!).getTime()).toBe(30 * 86_400 * 1000);

    // A token signed before the rotation still verifies against the JWKS, and new tokens carry the new kid.
    const jwks = createLocalJWKSet({ keys: await publishedKeys(database.db) });
    await expect(jwtVerify(oldToken, jwks)).resolves.toBeTruthy();
    const newToken = await issueOfflineToken(database.db, found!.license, "machine");
    expect(JSON.parse(Buffer.from(newToken.split(".")[0]!, "base64url").toString()).kid).toBe(kid);

    const [audit] = await database.db.select().from(auditLog).where(eq(auditLog.action, "signing_key.rotated"));
    expect(audit).toMatchObject({ actorType: "admin", actorId: ADMIN_EMAIL, subjectId: kid });
    const rows = await database.db.select().from(signingKeys);
    expect(rows.filter((r) => r.retiredAt === null)).toHaveLength(1);
  });

  it("two rotations at once leave exactly one key signing", async () => {
    await ensureSigningKey(database.db);
    await Promise.all([caller().settings.rotateSigningKey(), caller().settings.rotateSigningKey()]);
    const rows = await database.db.select().from(signingKeys);
    expect(rows.filter((r) => r.retiredAt === null)).toHaveLength(1);
  });

  it("creates an API token shown once and stored hashed, which works until revoked", async () => {
    const { secret: token, token: apiToken } = await caller().settings.createApiToken({ name: `ci-${uniq()}`, scopes: ["read"] });
    expect(apiToken).toMatchObject({ scopes: ["read"], expiresAt: null, lastUsedAt: null });
    expect(token).toMatch(/^ks_/);
    const [row] = await database.db.select().from(apiTokens).where(eq(apiTokens.id, apiToken.id));
    expect(row!.tokenHash).toBe(hashApiToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row!.createdBy).toBe(ADMIN_EMAIL);
    expect((await caller().settings.apiTokens()).map((t) => t.id)).toContain(apiToken.id);
    expect(await authenticateApiToken(database.db, token)).toEqual({ type: "api_token", id: apiToken.id });

    await caller().settings.revokeApiToken({ id: apiToken.id });
    expect(await authenticateApiToken(database.db, token)).toBeNull();
    expect(await appCode(caller().settings.revokeApiToken({ id: apiToken.id }))).toBe("NOT_FOUND");
    expect(await appCode(caller().settings.revokeApiToken({ id: "nope" }))).toBe("NOT_FOUND");
  });

  it("reports Stripe and email status without revealing secrets", async () => {
    await database.db
      .insert(appState)
      .values({ key: WEBHOOK_LAST_SEEN_KEY, value: { at: "2030-01-01T00:00:00.000Z", eventId: "evt_1", type: "invoice.paid" } })
      .onConflictDoNothing();
    const status = await caller().settings.status();
    expect(status.stripe.webhookLastSeen).toMatchObject({ eventId: "evt_1", type: "invoice.paid" });
    expect(status.email.provider).toBe("dev");
    expect(JSON.stringify(status)).not.toContain(process.env.AUTH_SECRET!);
  });

  it("shows the last reconciliation run and queues one on request", async () => {
    expect((await caller().settings.status()).stripe.reconcileLastRun).toBeNull();
    // A run with Stripe unreachable is recorded with its error, like any run.
    const { reconcileStripeEvents } = await import("@/server/domain/billing/reconcile");
    await reconcileStripeEvents({
      db: database.db,
      stripe: () => {
        throw new Error("Stripe is not configured");
      },
    });
    const seen = (await caller().settings.status()).stripe.reconcileLastRun;
    expect(seen).toMatchObject({ listed: 0, stored: 0, error: expect.stringContaining("not configured") });

    expect(await caller().settings.reconcileNow()).toEqual({ queued: true });
    const jobs = await database.pool.query("select count(*)::int as n from graphile_worker._private_jobs where key = 'stripe_reconcile'");
    expect(jobs.rows[0].n).toBe(1);
    expect((await caller().settings.status()).stripe.reconcileRequestedAt).not.toBeNull();
  });
});

describe("audit log", () => {
  it("filters by actor type, action (or action family) and subject, newest first, paging by id", async () => {
    const subject = crypto.randomUUID();
    const actors = [
      { type: "admin", id: "a@example.com" },
      { type: "api_token", id: "bootstrap" },
      { type: "customer", id: crypto.randomUUID() },
      { type: "stripe", id: "evt_x" },
      { type: "system", id: null },
    ] as const;
    for (const [i, actor] of actors.entries()) {
      await recordAudit(database.db, actor, {
        action: i % 2 ? "license.suspended" : "license.reinstated",
        subjectType: "license",
        subjectId: subject,
        before: { status: "active" },
        after: { status: "suspended" },
      });
    }
    const all: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await caller().audit.list({ subjectType: "license", subjectId: subject, limit: 2, cursor });
      all.push(...page.data.map((a) => a.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(all).toHaveLength(5);
    expect([...all].sort((a, b) => b - a)).toEqual(all);

    const stripe = await caller().audit.list({ actorType: "stripe", subjectId: subject });
    expect(stripe.data.map((a) => a.actor)).toEqual([{ type: "stripe", id: "evt_x" }]);
    expect(stripe.data[0]).toMatchObject({ before: { status: "active" }, after: { status: "suspended" } });
    expect((await caller().audit.list({ action: "license.suspended", subjectId: subject })).data).toHaveLength(2);
    expect((await caller().audit.list({ action: "license.", subjectId: subject })).data).toHaveLength(5);
    expect((await caller().audit.list({ actorType: "admin", actorId: "a@example.com", subjectId: subject })).data).toHaveLength(1);
  });
});
