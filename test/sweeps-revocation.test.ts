import { eq } from "drizzle-orm";
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customers } from "@/server/db/schema";
import { TEST_ADMIN_TOKEN, startApp, type TestApp } from "./helpers/app";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

/**
 * Offline tokens and revocation, end to end against the built app: a suspended or revoked license gets no new
 * token at the next heartbeat, the token a machine already holds lives at most the plan's token lifetime, and
 * the customer is told by email with the reason the admin gave.
 */
describe("revoking a license that works offline", () => {
  let app: TestApp;
  let catcher: SmtpCatcher;
  const TTL = 3600;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    app = await startApp({ env: { SMTP_URL: catcher.url, RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
  });
  afterAll(async () => {
    await app?.stop();
    await catcher?.stop();
  });

  const admin = (id: string, action: string, body: unknown = {}) =>
    app.post(`/api/v1/admin/licenses/${id}/${action}`, body, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
  const heartbeat = (key: string) => app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "laptop" });
  const messageWithSubject = async (subject: string) => {
    for (let i = 0; i < 200; i++) {
      const found = catcher.messages.find((m) => m.subject === subject);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no email "${subject}" arrived`);
  };

  it("heartbeat refuses a new token at once; the held token expires within the plan's lifetime; the customer hears why", async () => {
    const db = app.database.db;
    const product = await makeProduct(db, { name: "Orbit Pro" });
    const plan = await makePlan(db, { productId: product.id, seats: 2, offlineTokenTtlSeconds: TTL });
    const { key, license } = await makeLicense(db, { planId: plan.id, expiresAt: new Date(Date.now() + 30 * 86_400_000) });

    const activated = await app.post("/api/v1/licenses/activate", { key, fingerprint: "laptop" });
    expect(activated.status).toBe(201);
    const jwks = createLocalJWKSet((await app.get("/api/v1/jwks")).body);
    const held = await jwtVerify(activated.body.token, jwks, { issuer: app.url });
    // The per-plan lifetime, not the 14-day default: this is the longest a revoked license keeps working offline.
    expect(held.payload.exp! - held.payload.iat!).toBe(TTL);

    // Suspend: the next heartbeat gets no token, and neither validate nor a new activation accepts the key.
    const reason = "Your bank reported the payment as disputed.";
    expect((await admin(license.id, "suspend", { reason })).status).toBe(200);
    const refused = await heartbeat(key);
    expect([refused.status, refused.body.error?.code, refused.body.token]).toEqual([403, "SUSPENDED", undefined]);
    const validated = await app.post("/api/v1/licenses/validate", { key, fingerprint: "laptop" });
    expect(validated.body).toMatchObject({ valid: false, code: "SUSPENDED" });
    expect((await app.post("/api/v1/licenses/activate", { key, fingerprint: "desktop" })).body.error.code).toBe("SUSPENDED");

    // The token already on the machine still verifies offline (nothing can reach it), but only until its exp.
    const stillHeld = await jwtVerify(activated.body.token, jwks, { issuer: app.url });
    expect(stillHeld.payload.exp! * 1000 - Date.now()).toBeLessThanOrEqual(TTL * 1000);
    await expect(jwtVerify(activated.body.token, jwks, { currentDate: new Date((held.payload.exp! + 1) * 1000) })).rejects.toThrow(
      /"exp" claim timestamp check failed/,
    );

    const suspended = await messageWithSubject("Your Orbit Pro license is suspended");
    const [customer] = await db.select().from(customers).where(eq(customers.id, license.customerId));
    expect(suspended.to).toEqual([customer!.email]);
    expect(suspended.text).toContain(`Reason: ${reason}`);
    expect(suspended.text).toContain("at the latest when the offline permission it holds runs out");

    // Reinstate: the next heartbeat gets a fresh token again.
    expect((await admin(license.id, "reinstate")).status).toBe(200);
    const back = await heartbeat(key);
    expect(back.status).toBe(200);
    expect(decodeJwt(back.body.token)).toMatchObject({ status: "active", sub: license.id });
    await messageWithSubject("Your Orbit Pro license works again");

    // Revoke: final.
    expect((await admin(license.id, "revoke", { reason: "Refunded at your request." })).status).toBe(200);
    const dead = await heartbeat(key);
    expect([dead.status, dead.body.error?.code, dead.body.token]).toEqual([403, "REVOKED", undefined]);
    const revoked = await messageWithSubject("Your Orbit Pro license has been revoked");
    expect(revoked.text).toContain("Reason: Refunded at your request.");
    expect(revoked.text).not.toContain(key);
  });

  it("logged no unhandled error", () => {
    expect(app.logs()).not.toContain("unhandled error");
  });
});
