import crypto from "node:crypto";
import { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { activations, auditLog, emailOutbox } from "@/server/db/schema";
import { activateLicense } from "@/server/domain/licensing/activate";
import { ActivateLicenseInput } from "@/server/domain/licensing/inputs";
import { revokeLicense } from "@/server/domain/licensing/lifecycle";
import { SYSTEM } from "@/server/domain/audit/record";
import { setClock } from "@/server/domain/clock";
import { ensureSigningKey } from "@/server/domain/tokens/keyring";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { adminSession, appCode } from "./helpers/trpc";

// The customer portal through server-side callers with constructed sessions: a customer sees and touches only
// their own licenses and devices, whatever ids they send.

let database: TestDb;
beforeAll(async () => {
  database = await createTestDatabase("portal");
  await ensureSigningKey(database.db);
});
afterAll(async () => {
  await database?.drop();
});

const caller = (session: AppSession) => createCaller({ db: database.db, session, headers: new Headers() });
const sessionFor = (customer: { id: string; email: string } | null, email = customer?.email ?? "nobody@example.com"): AppSession => ({
  user: { id: crypto.randomUUID(), email, isAdmin: false },
  customerId: customer?.id ?? null,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

/** A customer with one license of a named product, activated on `devices` machines. */
async function customerWithLicense(name: string, devices: string[]) {
  const db = database.db;
  const customer = await makeCustomer(db, `${name}-${crypto.randomBytes(3).toString("hex")}@example.com`);
  const product = await makeProduct(db, { name: `${name}'s App` });
  const plan = await makePlan(db, { productId: product.id, name: "Pro", seats: 3, entitlements: ["sync"] });
  const { license, key } = await makeLicense(db, { planId: plan.id, customerId: customer.id, expiresAt: new Date("2031-01-01T00:00:00Z") });
  for (const fingerprint of devices) await activateLicense(db, ActivateLicenseInput.parse({ key, fingerprint, name: `${name}'s ${fingerprint}` }));
  const acts = await db.select().from(activations).where(eq(activations.licenseId, license.id));
  return { customer, license, key, activations: acts };
}

describe("customer A and customer B", () => {
  let a: Awaited<ReturnType<typeof customerWithLicense>>;
  let b: Awaited<ReturnType<typeof customerWithLicense>>;
  beforeAll(async () => {
    a = await customerWithLicense("alice", ["laptop"]);
    b = await customerWithLicense("bob", ["desktop", "tablet"]);
  });

  it("each sees only their own licenses and devices", async () => {
    const seenByA = await caller(sessionFor(a.customer)).portal.licenses();
    expect(seenByA).toHaveLength(1);
    expect(seenByA[0]).toMatchObject({
      id: a.license.id,
      productName: "alice's App",
      planName: "Pro",
      status: "active",
      maxActivations: 3,
      entitlements: ["sync"],
      expiresAt: "2031-01-01T00:00:00.000Z",
    });
    expect(seenByA[0]!.activations.map((x) => x.fingerprint)).toEqual(["laptop"]);
    // The key is not in the listing, only its hint.
    expect(JSON.stringify(seenByA)).not.toContain(a.key);
    expect(seenByA[0]!.keyHint).toMatch(/-[0-9A-Z]{5}$/);

    const seenByB = await caller(sessionFor(b.customer)).portal.licenses();
    expect(seenByB.map((l) => l.id)).toEqual([b.license.id]);
    expect(seenByB[0]!.activations.map((x) => x.fingerprint).sort()).toEqual(["desktop", "tablet"]);
    expect(JSON.stringify(seenByB)).not.toContain(a.license.id);
  });

  it("A cannot reveal, resend or deactivate with B's ids: not found, and nothing changes", async () => {
    const asA = caller(sessionFor(a.customer));
    expect(await codeOf(asA.portal.revealKey({ licenseId: b.license.id }))).toBe("NOT_FOUND");
    expect(await codeOf(asA.portal.resendLicenseEmail({ licenseId: b.license.id }))).toBe("NOT_FOUND");
    for (const act of b.activations) {
      expect(await codeOf(asA.portal.deactivate({ activationId: act.id }))).toBe("NOT_FOUND");
    }
    const stillThere = await database.db.select().from(activations).where(eq(activations.licenseId, b.license.id));
    expect(stillThere).toHaveLength(2);
    const outbox = await database.db.select().from(emailOutbox).where(eq(emailOutbox.to, a.customer.email));
    expect(outbox).toHaveLength(0);
  });

  it("the error for someone else's id is the same as for an id that does not exist", async () => {
    const asA = caller(sessionFor(a.customer));
    const other = await codeOf(asA.portal.revealKey({ licenseId: b.license.id }));
    const missing = await codeOf(asA.portal.revealKey({ licenseId: crypto.randomUUID() }));
    expect(other).toBe(missing);
    await expect(asA.portal.revealKey({ licenseId: b.license.id })).rejects.toThrow("You have no license with that id.");
    expect(await codeOf(asA.portal.revealKey({ licenseId: "not-a-uuid" }))).toBe("BAD_REQUEST");
  });

  it("the customer id comes from the session: an input customerId is ignored", async () => {
    const asA = caller(sessionFor(a.customer));
    // Extra keys are stripped by the input schema; the procedure still acts for A.
    const revealed = await asA.portal.revealKey({ licenseId: a.license.id, customerId: b.customer.id } as never);
    expect(revealed.key).toBe(a.key);
  });

  it("A reveals their own key and deactivates their own device, recorded as the customer", async () => {
    const asA = caller(sessionFor(a.customer));
    expect((await asA.portal.revealKey({ licenseId: a.license.id })).key).toBe(a.key);

    const device = a.activations[0]!;
    await expect(asA.portal.deactivate({ activationId: device.id })).resolves.toMatchObject({ deactivated: true, licenseId: a.license.id });
    expect(await database.db.select().from(activations).where(eq(activations.id, device.id))).toHaveLength(0);
    const [audit] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectId, a.license.id), eq(auditLog.action, "activation.deleted")));
    expect(audit).toMatchObject({ actorType: "customer", actorId: a.customer.id, metadata: { via: "portal" } });
    // Twice: the device is gone.
    expect(await codeOf(asA.portal.deactivate({ activationId: device.id }))).toBe("NOT_FOUND");
  });

  it("A resends their license email once per minute, to their own address", async () => {
    // A fixed instant: the once-per-minute rule must not meet a minute boundary between the two clicks.
    setClock(() => new Date("2030-06-01T12:00:30Z"));
    onTestFinished(() => setClock(undefined));
    const asA = caller(sessionFor(a.customer));
    await expect(asA.portal.resendLicenseEmail({ licenseId: a.license.id })).resolves.toEqual({ queued: true });
    await expect(asA.portal.resendLicenseEmail({ licenseId: a.license.id })).resolves.toEqual({ queued: false });
    const rows = await database.db.select().from(emailOutbox).where(eq(emailOutbox.customerId, a.customer.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ template: "license-issued", to: a.customer.email, props: { licenseIds: [a.license.id] } });
    const [audit] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectId, a.license.id), eq(auditLog.action, "license.email_resent")));
    expect(audit).toMatchObject({ actorType: "customer", actorId: a.customer.id });
  });

  it("shows a revoked license as revoked, with the reason the admin gave", async () => {
    await database.db.transaction((tx) => revokeLicense(tx, SYSTEM, b.license.id, { reason: "Refunded on request." }));
    const [seen] = await caller(sessionFor(b.customer)).portal.licenses();
    expect(seen).toMatchObject({ status: "revoked", statusReason: "Refunded on request." });
  });
});

describe("resending a revoked key", () => {
  it("is refused by the portal exactly as by the admin door: INVALID_STATE, and no email", async () => {
    const c = await customerWithLicense("dana", []);
    await database.db.transaction((tx) => revokeLicense(tx, SYSTEM, c.license.id, {}));
    const portal = caller(sessionFor(c.customer)).portal;
    const admin = caller(adminSession("resend@example.com")).licenses;
    expect(await appCode(portal.resendLicenseEmail({ licenseId: c.license.id }))).toBe("INVALID_STATE");
    expect(await appCode(admin.resendEmail({ id: c.license.id }))).toBe("INVALID_STATE");
    // The revoke's own email only: no key went out.
    const mails = await database.db.select().from(emailOutbox).where(eq(emailOutbox.customerId, c.customer.id));
    expect(mails.map((m) => m.template)).toEqual(["license-status-changed"]);
    const audits = await database.db.select().from(auditLog).where(and(eq(auditLog.subjectId, c.license.id), eq(auditLog.action, "license.email_resent")));
    expect(audits).toEqual([]);
  });
});

describe("someone with no customer record", () => {
  it("sees an empty portal, not an error, and can touch nothing", async () => {
    const other = await customerWithLicense("carol", ["phone"]);
    const stranger = caller(sessionFor(null, "stranger@example.com"));
    await expect(stranger.portal.licenses()).resolves.toEqual([]);
    await expect(stranger.portal.me()).resolves.toEqual({ email: "stranger@example.com", isAdmin: false, hasCustomer: false });
    expect(await codeOf(stranger.portal.revealKey({ licenseId: other.license.id }))).toBe("NOT_FOUND");
    expect(await codeOf(stranger.portal.deactivate({ activationId: other.activations[0]!.id }))).toBe("NOT_FOUND");
  });
});
