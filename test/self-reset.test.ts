import crypto from "node:crypto";
import { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { activations, auditLog, emailOutbox, licenses, resetRequests } from "@/server/db/schema";
import { activateLicense } from "@/server/domain/licensing/activate";
import { ActivateLicenseInput } from "@/server/domain/licensing/inputs";
import { applyLicenseAction } from "@/server/domain/licensing/lifecycle";
import { resetAllDevices, resetWindow } from "@/server/domain/licensing/self-reset";
import { isAppError } from "@/server/domain/errors";
import { renderEmail } from "@/server/domain/mail/render";
import { DAY_MS, setClock } from "@/server/domain/clock";
import { ensureSigningKey } from "@/server/domain/tokens/keyring";
import { resetEnvCache } from "@/server/env";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { adminSession, appCode } from "./helpers/trpc";

// "Reset all devices" (server/domain/licensing/self-reset.ts) through the portal's and the admin app's tRPC
// procedures, against a real database: the cooldown, the manual-reset request with its operator emails, the
// one-click approval, rate limits, and another customer's ids everywhere.

const OPERATORS = ["ops-one@example.com", "ops-two@example.com"];
let database: TestDb;
const savedAdmins = process.env.ADMIN_EMAILS;
beforeAll(async () => {
  process.env.ADMIN_EMAILS = OPERATORS.join(",");
  resetEnvCache();
  database = await createTestDatabase("selfreset");
  await ensureSigningKey(database.db);
});
afterAll(async () => {
  process.env.ADMIN_EMAILS = savedAdmins;
  resetEnvCache();
  setClock(undefined);
  await database?.drop();
});
afterEach(() => setClock(undefined));

const caller = (session: AppSession) => createCaller({ db: database.db, session, headers: new Headers() });
const sessionFor = (customer: { id: string; email: string }): AppSession => ({
  user: { id: crypto.randomUUID(), email: customer.email, isAdmin: false },
  customerId: customer.id,
});

async function customerWithDevices(devices: string[], cooldownDays = 30) {
  const db = database.db;
  const customer = await makeCustomer(db, `reset-${crypto.randomBytes(4).toString("hex")}@example.com`);
  const product = await makeProduct(db);
  const plan = await makePlan(db, { productId: product.id, seats: 5, resetCooldownDays: cooldownDays });
  const { license, key } = await makeLicense(db, { planId: plan.id, customerId: customer.id });
  for (const fingerprint of devices) await activateLicense(db, ActivateLicenseInput.parse({ key, fingerprint }));
  return { customer, license, key, plan };
}

const deviceCount = async (licenseId: string) =>
  (await database.db.select().from(activations).where(eq(activations.licenseId, licenseId))).length;

async function thrown(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("resetWindow", () => {
  const at = new Date("2030-01-31T00:00:00Z");
  it("allows a reset when never reset, after the cooldown, or with a cooldown of 0", () => {
    expect(resetWindow(null, 30, at)).toMatchObject({ nextAllowedAt: null, retryAfterSeconds: 0 });
    expect(resetWindow(new Date("2030-01-01T00:00:00Z"), 30, at).nextAllowedAt).toBeNull();
    expect(resetWindow(new Date("2030-01-30T00:00:00Z"), 0, at).nextAllowedAt).toBeNull();
  });
  it("inside the cooldown names the next allowed time and the seconds to it", () => {
    const w = resetWindow(new Date("2030-01-30T00:00:00Z"), 30, at);
    expect(w.nextAllowedAt?.toISOString()).toBe("2030-03-01T00:00:00.000Z");
    expect(w.retryAfterSeconds).toBe(29 * 86_400);
  });
});

describe("self-service reset in the portal", () => {
  it("outside the cooldown removes every device, stamps last_reset_at and says when the next is allowed", async () => {
    const t0 = new Date("2031-05-01T10:00:00Z");
    setClock(() => t0);
    const a = await customerWithDevices(["laptop", "desktop", "tablet"]);
    const answer = await caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id });
    expect(answer).toEqual({ removed: 3, nextAllowedAt: new Date(t0.getTime() + 30 * DAY_MS).toISOString() });
    expect(await deviceCount(a.license.id)).toBe(0);
    const [row] = await database.db.select().from(licenses).where(eq(licenses.id, a.license.id));
    expect(row!.lastResetAt?.toISOString()).toBe(t0.toISOString());
    const [audit] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.subjectId, a.license.id), eq(auditLog.action, "license.activations_reset")));
    expect(audit).toMatchObject({ actorType: "customer", actorId: a.customer.id });
    expect(audit!.metadata).toMatchObject({ removed: 3, fingerprints: ["desktop", "laptop", "tablet"], via: "portal" });

    // The portal listing shows the cooldown.
    const [listed] = await caller(sessionFor(a.customer)).portal.licenses();
    expect(listed!.reset).toEqual({
      cooldownDays: 30,
      lastResetAt: t0.toISOString(),
      nextAllowedAt: answer.nextAllowedAt,
      requestedAt: null,
    });
  });

  it("inside the cooldown refuses with RESET_COOLDOWN and the time of the next allowed reset; after it, allows again", async () => {
    const t0 = new Date("2031-06-01T00:00:00Z");
    setClock(() => t0);
    const a = await customerWithDevices(["one"]);
    const portal = () => caller(sessionFor(a.customer)).portal;
    await portal().resetDevices({ licenseId: a.license.id });
    await activateLicense(database.db, ActivateLicenseInput.parse({ key: a.key, fingerprint: "two" }));

    setClock(() => new Date(t0.getTime() + 10 * DAY_MS));
    const err = await thrown(portal().resetDevices({ licenseId: a.license.id }));
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("TOO_MANY_REQUESTS");
    const cause = (err as TRPCError).cause;
    expect(isAppError(cause) && cause.code).toBe("RESET_COOLDOWN");
    expect(isAppError(cause) && cause.details).toEqual({ nextAllowedAt: "2031-07-01T00:00:00.000Z", retryAfterSeconds: 20 * 86_400 });
    expect(await deviceCount(a.license.id)).toBe(1);

    setClock(() => new Date(t0.getTime() + 30 * DAY_MS));
    expect((await portal().resetDevices({ licenseId: a.license.id })).removed).toBe(1);
  });

  it("two resets at once: one wins, the other meets the cooldown (the license lock serialises them)", async () => {
    const a = await customerWithDevices(["x", "y"]);
    const results = await Promise.allSettled([0, 1].map(() => database.db.transaction((tx) => resetAllDevices(tx, a.license, { type: "customer", id: a.customer.id }, new Date(), { via: "portal" }))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason.code).toBe("RESET_COOLDOWN");
  });

  it("the operator's reset (admin action) bypasses the cooldown and starts a new one", async () => {
    const a = await customerWithDevices(["m1"]);
    await caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id });
    await activateLicense(database.db, ActivateLicenseInput.parse({ key: a.key, fingerprint: "m2" }));
    const adminCaller = caller(adminSession("ops-one@example.com"));
    await adminCaller.licenses.resetActivations({ id: a.license.id });
    expect(await deviceCount(a.license.id)).toBe(0);
    // Through the management API's door too (same function).
    await activateLicense(database.db, ActivateLicenseInput.parse({ key: a.key, fingerprint: "m3" }));
    const later = new Date(Date.now() + 1000);
    setClock(() => later);
    await database.db.transaction((tx) => applyLicenseAction(tx, { type: "api_token", id: "t" }, a.license.id, "reset-activations", {}));
    const [row] = await database.db.select().from(licenses).where(eq(licenses.id, a.license.id));
    expect(row!.lastResetAt?.toISOString()).toBe(later.toISOString());
    expect(await appCode(caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id }))).toBe("RESET_COOLDOWN");
  });

  it("a plan with a cooldown of 0 days allows resets back to back", async () => {
    const a = await customerWithDevices(["p"], 0);
    await caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id });
    expect((await caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id })).removed).toBe(0);
  });

  it("resets are rate limited per customer", async () => {
    const a = await customerWithDevices([], 0);
    const codes: string[] = [];
    for (let i = 0; i < 7; i++) {
      codes.push(await appCode(caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id })).catch(() => "ok"));
    }
    expect(codes.slice(0, 5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(codes.slice(5)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });
});

describe("manual reset requests", () => {
  it("outside the cooldown there is nothing to ask: the customer resets themselves", async () => {
    const a = await customerWithDevices(["d"]);
    expect(await appCode(caller(sessionFor(a.customer)).portal.requestManualReset({ licenseId: a.license.id }))).toBe("INVALID_STATE");
  });

  it("inside the cooldown emails every operator once (in the request's transaction), and the admin approves in one click", async () => {
    const a = await customerWithDevices(["old-laptop"]);
    const portal = caller(sessionFor(a.customer)).portal;
    await portal.resetDevices({ licenseId: a.license.id });
    await activateLicense(database.db, ActivateLicenseInput.parse({ key: a.key, fingerprint: "new-laptop" }));

    const asked = await portal.requestManualReset({ licenseId: a.license.id, message: "  Replaced my laptop  " });
    expect(asked).toMatchObject({ created: true, notified: 2 });
    const again = await portal.requestManualReset({ licenseId: a.license.id });
    expect(again).toEqual({ requestId: asked.requestId, created: false, notified: 0 });

    const mails = await database.db.select().from(emailOutbox).where(eq(emailOutbox.template, "reset-requested"));
    const forThis = mails.filter((m) => (m.props as { requestId: string }).requestId === asked.requestId);
    expect(forThis.map((m) => m.to).sort()).toEqual(OPERATORS);
    const rendered = await renderEmail(database.db, forThis[0]!);
    expect(rendered.subject).toContain(a.customer.email);
    expect(rendered.text).toContain("Replaced my laptop");
    expect(rendered.text).toContain(`/admin/licenses/${a.license.id}`);

    const [listed] = await portal.licenses();
    expect(listed!.reset.requestedAt).not.toBeNull();

    // Only admins see and decide requests.
    expect(await appCode(caller(sessionFor(a.customer)).resetRequests.list({ status: "open" }))).toBe("FORBIDDEN");
    expect(await appCode(caller(sessionFor(a.customer)).resetRequests.approve({ id: asked.requestId }))).toBe("FORBIDDEN");

    const admin = caller(adminSession("ops-two@example.com"));
    const open = await admin.resetRequests.list({ status: "open", licenseId: a.license.id });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ id: asked.requestId, customerEmail: a.customer.email, message: "Replaced my laptop", devices: 1 });

    const approved = await admin.resetRequests.approve({ id: asked.requestId });
    expect(approved).toMatchObject({ removed: 1, request: { status: "approved", decidedBy: "ops-two@example.com" } });
    expect(await deviceCount(a.license.id)).toBe(0);
    const [toCustomer] = await database.db
      .select()
      .from(emailOutbox)
      .where(and(eq(emailOutbox.template, "devices-reset"), eq(emailOutbox.to, a.customer.email)));
    expect(toCustomer!.props).toEqual({ licenseId: a.license.id, removed: 1 });
    expect((await renderEmail(database.db, toCustomer!)).subject).toMatch(/devices were reset/);
    expect(await appCode(admin.resetRequests.approve({ id: asked.requestId }))).toBe("INVALID_STATE");
    expect(await admin.resetRequests.list({ status: "open", licenseId: a.license.id })).toEqual([]);
    const actions = (await database.db.select().from(auditLog).where(eq(auditLog.subjectId, a.license.id))).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["license.reset_requested", "license.reset_request_approved"]));
  });

  it("dismiss closes the request without a reset; a new request can follow", async () => {
    const a = await customerWithDevices(["k"]);
    const portal = caller(sessionFor(a.customer)).portal;
    await portal.resetDevices({ licenseId: a.license.id });
    await activateLicense(database.db, ActivateLicenseInput.parse({ key: a.key, fingerprint: "k2" }));
    const { requestId } = await portal.requestManualReset({ licenseId: a.license.id });
    const admin = caller(adminSession("ops-one@example.com"));
    expect((await admin.resetRequests.dismiss({ id: requestId })).request.status).toBe("dismissed");
    expect(await deviceCount(a.license.id)).toBe(1);
    expect((await portal.requestManualReset({ licenseId: a.license.id })).created).toBe(true);
  });

  it("requests are rate limited per customer", async () => {
    const a = await customerWithDevices([]);
    await caller(sessionFor(a.customer)).portal.resetDevices({ licenseId: a.license.id });
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push(await appCode(caller(sessionFor(a.customer)).portal.requestManualReset({ licenseId: a.license.id })).catch(() => "ok"));
    }
    expect(codes).toEqual(["ok", "ok", "ok", "ok", "ok", "RATE_LIMITED"]);
    expect(await database.db.select().from(resetRequests).where(eq(resetRequests.licenseId, a.license.id))).toHaveLength(1);
  });
});

describe("another customer's ids", () => {
  it("every portal procedure answers NOT_FOUND for B's license or device and changes nothing of B's", async () => {
    const a = await customerWithDevices(["a-pc"]);
    const b = await customerWithDevices(["b-pc", "b-mac"]);
    await caller(sessionFor(b.customer)).portal.resetDevices({ licenseId: b.license.id }).catch(() => undefined);
    await activateLicense(database.db, ActivateLicenseInput.parse({ key: b.key, fingerprint: "b-new" }));
    const [bDevice] = await database.db.select().from(activations).where(eq(activations.licenseId, b.license.id));
    const asA = () => caller(sessionFor(a.customer)).portal;
    const attempts: [string, () => Promise<unknown>][] = [
      ["revealKey", () => asA().revealKey({ licenseId: b.license.id })],
      ["deactivate", () => asA().deactivate({ activationId: bDevice!.id })],
      ["activationFile", () => asA().activationFile({ licenseId: b.license.id, fingerprint: "sneaky" })],
      ["resendLicenseEmail", () => asA().resendLicenseEmail({ licenseId: b.license.id })],
      ["resetDevices", () => asA().resetDevices({ licenseId: b.license.id })],
      ["requestManualReset", () => asA().requestManualReset({ licenseId: b.license.id })],
    ];
    for (const [name, attempt] of attempts) expect([name, await appCode(attempt())]).toEqual([name, "NOT_FOUND"]);
    expect(await deviceCount(b.license.id)).toBe(1);
    expect(await database.db.select().from(resetRequests).where(eq(resetRequests.licenseId, b.license.id))).toEqual([]);
    const listed = await asA().licenses();
    expect(listed.map((l) => l.id)).toEqual([a.license.id]);
  });
});
