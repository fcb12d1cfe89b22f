import crypto from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import { activations, auditLog, devMailbox, emailOutbox, licenses, stripeEvents } from "@/server/db/schema";
import { hashLicenseKey } from "@/server/domain/licensing/license-key";
import { deliverOutboxEmail } from "@/server/domain/mail/deliver";
import { validateLicense } from "@/server/domain/licensing/validate";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { adminSession, appCode } from "./helpers/trpc";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";

// The licenses area of the admin app, through the real tRPC router (createCaller with an admin session)
// against a real database: every action lands in the database with an audit row naming the admin.

const ADMIN_EMAIL = "ops@example.com";
const admin = adminSession(ADMIN_EMAIL);
const uniq = () => crypto.randomBytes(3).toString("hex");
const inDays = (d: number) => new Date(Date.now() + d * 86_400_000);

let database: TestDb;
const caller = () => createCaller({ db: database.db, session: admin, headers: new Headers() });

beforeAll(async () => {
  database = await createTestDatabase("adminlic");
});
afterAll(async () => {
  await database?.drop();
});

async function catalog(over: { seats?: number } = {}) {
  const product = await makeProduct(database.db);
  const plan = await makePlan(database.db, { productId: product.id, seats: over.seats ?? 3, entitlements: ["pro"], durationDays: 365 });
  return { product, plan };
}

const auditFor = async (licenseId: string) =>
  database.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.subjectType, "license"), eq(auditLog.subjectId, licenseId)))
    .orderBy(auditLog.id);

const jobsFor = async (task: string) =>
  (
    await database.db.execute<{ key: string | null }>(
      sql`select key from graphile_worker.jobs where task_identifier = ${task}`,
    )
  ).rows.map((r) => r.key);


describe("issuing by hand", () => {
  it("issues a license with its key shown once, owes the email, and audits the admin", async () => {
    const { plan } = await catalog();
    const email = `Buyer-${uniq()}@Example.com`;
    const { license, key } = await caller().licenses.issue({ plan: plan.slug, email, seats: 5 });
    expect(key).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
    expect(license).toMatchObject({ plan: plan.slug, maxActivations: 5, status: "active" });
    const [row] = await database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row!.keyHash).toBe(hashLicenseKey(key));
    const [audit] = await auditFor(license.id);
    expect(audit).toMatchObject({ action: "license.issued", actorType: "admin", actorId: ADMIN_EMAIL });
    const [mail] = await database.db.select().from(emailOutbox).where(eq(emailOutbox.customerId, license.customer.id));
    expect(mail).toMatchObject({ template: "license-issued", status: "pending" });
  });

  it("answers a missing plan with PLAN_NOT_FOUND and a bad email with BAD_REQUEST", async () => {
    expect(await appCode(caller().licenses.issue({ plan: "no-such-plan", email: "a@example.com" }))).toBe("PLAN_NOT_FOUND");
    expect(await appCode(caller().licenses.issue({ plan: "x", email: "not an email" }))).toBe("BAD_REQUEST");
  });
});

describe("the license page", () => {
  it("shows customer, plan, product, activations and a timeline of audit rows, Stripe events and emails", async () => {
    const { plan, product } = await catalog();
    const customer = await makeCustomer(database.db);
    const { license } = await makeLicense(database.db, { planId: plan.id, customerId: customer.id });
    const sub = `sub_${uniq()}`;
    await database.db.update(licenses).set({ stripeSubscriptionId: sub }).where(eq(licenses.id, license.id));
    await database.db.insert(activations).values({ licenseId: license.id, fingerprint: "machine-1", name: "Laptop" });
    const eventId = `evt_${uniq()}`;
    await database.db.insert(stripeEvents).values({
      id: eventId,
      type: "invoice.paid",
      stripeCreatedAt: new Date(),
      objectId: sub,
      payload: {},
      status: "processed",
    });
    await caller().licenses.resendEmail({ id: license.id });

    const detail = await caller().licenses.get({ id: license.id });
    expect(detail.license).toMatchObject({ id: license.id, keyHint: license.keyHint, status: "active", stripe: { subscriptionId: sub } });
    expect(detail.customer).toMatchObject({ id: customer.id, email: customer.email });
    expect(detail.plan).toMatchObject({ slug: plan.slug, entitlements: ["pro"] });
    expect(detail.product).toMatchObject({ slug: product.slug });
    expect(detail.activations.map((a) => a.fingerprint)).toEqual(["machine-1"]);
    const kinds = detail.timeline.map((t) => (t.kind === "audit" ? t.action : t.kind === "stripe_event" ? t.id : t.template));
    expect(kinds).toEqual(expect.arrayContaining(["license.issued", "license.email_resent", eventId, "license-issued"]));
    // Newest first.
    const times = detail.timeline.map((t) => t.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("answers NOT_FOUND for an unknown or malformed id", async () => {
    expect(await appCode(caller().licenses.get({ id: crypto.randomUUID() }))).toBe("NOT_FOUND");
    expect(await appCode(caller().licenses.get({ id: "nope" }))).toBe("NOT_FOUND");
  });
});

describe("lifecycle actions", () => {
  it("suspend with a reason, reinstate, extend, change seats, revoke: each audited with the admin as actor", async () => {
    const { plan } = await catalog();
    const { license } = await makeLicense(database.db, { planId: plan.id, expiresAt: inDays(10) });
    const c = caller();

    const suspended = await c.licenses.suspend({ id: license.id, reason: "Chargeback under review" });
    expect(suspended.license.status).toBe("suspended");
    let [row] = await database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row!.statusReason).toBe("Chargeback under review");

    expect((await c.licenses.reinstate({ id: license.id })).license.status).toBe("active");
    const until = inDays(400).toISOString();
    expect((await c.licenses.extend({ id: license.id, expiresAt: until })).license.expiresAt).toBe(until);
    expect((await c.licenses.changeSeats({ id: license.id, seats: 7 })).license.maxActivations).toBe(7);
    expect((await c.licenses.revoke({ id: license.id, reason: "Refunded" })).license.status).toBe("revoked");
    [row] = await database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row!.statusReason).toBe("Refunded");

    const audits = await auditFor(license.id);
    expect(audits.map((a) => a.action)).toEqual([
      "license.issued",
      "license.suspended",
      "license.reinstated",
      "license.extended",
      "license.seats_changed",
      "license.revoked",
    ]);
    for (const a of audits.slice(1)) expect(a).toMatchObject({ actorType: "admin", actorId: ADMIN_EMAIL });

    // Revoked is final, and the error says so in words.
    await expect(c.licenses.reinstate({ id: license.id })).rejects.toThrow(/revoked license cannot be reinstated/);
  });

  it("a revoked license no longer validates", async () => {
    const { plan } = await catalog();
    const { license, key } = await makeLicense(database.db, { planId: plan.id });
    expect((await validateLicense(database.db, { key })).code).toBe("VALID");
    await caller().licenses.revoke({ id: license.id, reason: "Fraud" });
    expect((await validateLicense(database.db, { key })).code).toBe("REVOKED");
  });

  it("resets activations and deactivates one machine", async () => {
    const { plan } = await catalog({ seats: 3 });
    const { license } = await makeLicense(database.db, { planId: plan.id });
    const [a1, a2] = await database.db
      .insert(activations)
      .values([
        { licenseId: license.id, fingerprint: "m1" },
        { licenseId: license.id, fingerprint: "m2" },
      ])
      .returning();
    await caller().licenses.deactivate({ id: license.id, activationId: a1!.id });
    let left = await database.db.select().from(activations).where(eq(activations.licenseId, license.id));
    expect(left.map((a) => a.fingerprint)).toEqual(["m2"]);
    expect(await appCode(caller().licenses.deactivate({ id: license.id, activationId: a1!.id }))).toBe("NOT_FOUND");

    await caller().licenses.resetActivations({ id: license.id });
    left = await database.db.select().from(activations).where(eq(activations.licenseId, license.id));
    expect(left).toEqual([]);
    const actions = (await auditFor(license.id)).map((a) => a.action);
    expect(actions).toEqual(["license.issued", "activation.deleted", "license.activations_reset"]);
    void a2;
  });

  it("changes the plan within the product, and refuses another product's plan", async () => {
    const { product, plan } = await catalog({ seats: 3 });
    const bigger = await makePlan(database.db, { productId: product.id, seats: 10, entitlements: ["pro", "team"] });
    const other = await makePlan(database.db, { seats: 1 });
    const { license } = await makeLicense(database.db, { planId: plan.id });
    await database.db.insert(activations).values([
      { licenseId: license.id, fingerprint: "m1" },
      { licenseId: license.id, fingerprint: "m2" },
    ]);

    expect(await appCode(caller().licenses.changePlan({ id: license.id, plan: other.slug }))).toBe("INVALID_STATE");
    expect(await appCode(caller().licenses.changePlan({ id: license.id, plan: "nope" }))).toBe("PLAN_NOT_FOUND");

    const detail = await caller().licenses.changePlan({ id: license.id, plan: bigger.slug, seats: 10 });
    expect(detail.plan.slug).toBe(bigger.slug);
    expect(detail.license.maxActivations).toBe(10);
    expect(detail.plan.entitlements).toEqual(["pro", "team"]);
    const [changed] = (await auditFor(license.id)).filter((a) => a.action === "license.plan_changed");
    expect(changed).toMatchObject({
      actorType: "admin",
      before: { plan: plan.slug, maxActivations: 3 },
      after: { plan: bigger.slug, maxActivations: 10 },
    });
    // The customer is told, in the same transaction.
    const mails = await database.db.select().from(emailOutbox).where(eq(emailOutbox.customerId, license.customerId));
    expect(mails.map((m) => [m.template, m.props])).toEqual([
      ["plan-changed", { licenseId: license.id, fromPlanId: plan.id, toPlanId: bigger.id, previousSeats: 3 }],
    ]);
  });
});

describe("rotating a key", () => {
  it("kills the old key at once, shows the new one once, and emails it with the license-key-rotated template", async () => {
    const { plan } = await catalog();
    const { license, key: oldKey } = await makeLicense(database.db, { planId: plan.id });
    const { key: newKey, outboxId, license: view } = await caller().licenses.rotateKey({ id: license.id });
    expect(newKey).not.toBe(oldKey);
    expect(view.id).toBe(license.id);
    expect((await validateLicense(database.db, { key: oldKey })).code).toBe("NOT_FOUND");
    expect((await validateLicense(database.db, { key: newKey })).code).toBe("VALID");

    const [mail] = await database.db.select().from(emailOutbox).where(eq(emailOutbox.id, outboxId));
    expect(mail).toMatchObject({ template: "license-key-rotated", props: { licenseId: license.id, previousKeyHint: license.keyHint } });
    // The outbox holds no key, ever.
    expect(JSON.stringify(mail!.props)).not.toContain(newKey);
    expect(await jobsFor("send_email")).toContain(`email:${outboxId}`);

    // Delivered through the dev mailbox (no provider in this process): the email carries the new key.
    const outcome = await deliverOutboxEmail(database.db, outboxId);
    expect(outcome.outcome).toBe("sent");
    const [delivered] = await database.db.select().from(devMailbox).where(eq(devMailbox.outboxId, outboxId));
    expect(delivered!.subject).toMatch(/new license key/i);
    expect(delivered!.text).toContain(newKey);
    expect(delivered!.text).toContain(license.keyHint);
    expect(delivered!.text).not.toContain(oldKey);

    const actions = (await auditFor(license.id)).map((a) => a.action);
    expect(actions).toContain("license.key_rotated");
  });

  it("refuses a revoked license", async () => {
    const { plan } = await catalog();
    const { license } = await makeLicense(database.db, { planId: plan.id });
    await caller().licenses.revoke({ id: license.id });
    expect(await appCode(caller().licenses.rotateKey({ id: license.id }))).toBe("INVALID_STATE");
  });
});

describe("resending the license email", () => {
  it("owes a new license-issued email each time and records who asked", async () => {
    const { plan } = await catalog();
    const { license } = await makeLicense(database.db, { planId: plan.id });
    const first = await caller().licenses.resendEmail({ id: license.id });
    const second = await caller().licenses.resendEmail({ id: license.id });
    expect(first.outboxId).not.toBe(second.outboxId);
    const rows = await database.db.select().from(emailOutbox).where(eq(emailOutbox.customerId, license.customerId));
    expect(rows.filter((r) => r.template === "license-issued")).toHaveLength(2);
    const audits = (await auditFor(license.id)).filter((a) => a.action === "license.email_resent");
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ actorType: "admin", actorId: ADMIN_EMAIL });
  });
});

describe("a failed action changes nothing", () => {
  it("rolls back the whole transaction when the action refuses", async () => {
    const { plan } = await catalog({ seats: 2 });
    const { license } = await makeLicense(database.db, { planId: plan.id });
    await database.db.insert(activations).values([
      { licenseId: license.id, fingerprint: "a" },
      { licenseId: license.id, fingerprint: "b" },
    ]);
    const before = await auditFor(license.id);
    const elsewhere = await makePlan(database.db, { seats: 1 });
    expect(await appCode(caller().licenses.changePlan({ id: license.id, plan: elsewhere.slug, seats: 1 }))).toBe("INVALID_STATE");
    const [row] = await database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row).toMatchObject({ planId: plan.id, maxActivations: 2 });
    expect(await database.db.select().from(activations).where(eq(activations.licenseId, license.id))).toHaveLength(2);
    expect(await auditFor(license.id)).toHaveLength(before.length);
  });
});
