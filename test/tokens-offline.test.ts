import { eq } from "drizzle-orm";
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { licenses } from "@/server/db/schema";
import { verifyOfflineToken } from "@/server/domain/tokens/verify-portable";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";

const DAY = 86_400_000;
const TTL = 1_209_600; // the contract's default OFFLINE_TOKEN_TTL

describe("offline tokens from the public routes", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
  });
  afterAll(async () => {
    await app?.stop();
  });
  const db = () => app.database.db;

  it("publishes the JWKS at /api/v1/jwks and /.well-known/jwks.json", async () => {
    const a = await app.get("/api/v1/jwks");
    const b = await app.get("/.well-known/jwks.json");
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of a.body.keys) {
      expect(Object.keys(k).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
      expect(k).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      expect(Buffer.from(k.x, "base64url")).toHaveLength(32);
    }
  });

  it("the token from activate verifies with jose against the JWKS and carries every claim", async () => {
    const product = await makeProduct(db());
    const plan = await makePlan(db(), { productId: product.id, seats: 2, entitlements: ["export", "sync"] });
    const expiresAt = new Date(Date.now() + 5 * DAY); // sooner than the 14-day token lifetime
    const { key, license } = await makeLicense(db(), { planId: plan.id, expiresAt });
    const before = Math.floor(Date.now() / 1000);

    const res = await app.post("/api/v1/licenses/activate", { key, fingerprint: "machine-a" });
    expect(res.status).toBe(201);
    const token: string = res.body.token;

    const jwks = (await app.get("/api/v1/jwks")).body;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: app.url,
      algorithms: ["EdDSA"],
    });
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "JWT", kid: expect.any(String) });
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(protectedHeader.kid);

    // The well-known address works as a remote key set too.
    await jwtVerify(token, createRemoteJWKSet(new URL(`${app.url}/.well-known/jwks.json`)), { issuer: app.url });

    expect(payload).toEqual({
      iss: app.url,
      sub: license.id,
      iat: expect.any(Number),
      exp: Math.floor(expiresAt.getTime() / 1000),
      jti: expect.any(String),
      fingerprint: "machine-a",
      product: product.slug,
      plan: plan.slug,
      entitlements: ["export", "sync"],
      status: "active",
      licenseExpiresAt: expiresAt.toISOString(),
      maxActivations: 2,
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.exp! * 1000).toBeLessThanOrEqual(expiresAt.getTime());

    // And with the portable verifier customers embed.
    const portable = await verifyOfflineToken(token, jwks, { issuer: app.url, fingerprint: "machine-a", product: product.slug });
    expect(portable.valid).toBe(true);

    // A tampered token fails both.
    const [h, , s] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ ...payload, maxActivations: 99 })).toString("base64url");
    await expect(jwtVerify(`${h}.${forged}.${s}`, createLocalJWKSet(jwks))).rejects.toThrow();
    expect((await verifyOfflineToken(`${h}.${forged}.${s}`, jwks)).valid).toBe(false);
  });

  it("a perpetual license gets the plan's token lifetime, or OFFLINE_TOKEN_TTL", async () => {
    const perpetual = await makeLicense(db(), { expiresAt: null });
    const res = await app.post("/api/v1/licenses/activate", { key: perpetual.key, fingerprint: "m" });
    const jwks = createLocalJWKSet((await app.get("/api/v1/jwks")).body);
    const { payload } = await jwtVerify(res.body.token, jwks);
    expect(payload.exp! - payload.iat!).toBe(TTL);
    expect(payload.licenseExpiresAt).toBeNull();

    const plan = await makePlan(db(), { offlineTokenTtlSeconds: 3600 });
    const short = await makeLicense(db(), { planId: plan.id, expiresAt: null });
    const res2 = await app.post("/api/v1/licenses/activate", { key: short.key, fingerprint: "m" });
    const { payload: p2 } = await jwtVerify(res2.body.token, jwks);
    expect(p2.exp! - p2.iat!).toBe(3600);
  });

  it("heartbeat hands out a fresh token with a new jti; inside the grace period it ends with the grace", async () => {
    const plan = await makePlan(db(), { graceDays: 3 });
    const { key, license } = await makeLicense(db(), { planId: plan.id, expiresAt: new Date(Date.now() + DAY) });
    const activated = await app.post("/api/v1/licenses/activate", { key, fingerprint: "m" });
    const jwks = createLocalJWKSet((await app.get("/api/v1/jwks")).body);

    const beat = await app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "m" });
    expect(beat.status).toBe(200);
    const first = (await jwtVerify(activated.body.token, jwks)).payload;
    const fresh = (await jwtVerify(beat.body.token, jwks)).payload;
    expect(fresh.jti).not.toBe(first.jti);
    expect(fresh.sub).toBe(license.id);

    // One day past expiry, inside the 3 grace days: still served, token capped at expiry + grace.
    const expiredAt = new Date(Date.now() - DAY);
    await db().update(licenses).set({ expiresAt: expiredAt }).where(eq(licenses.id, license.id));
    const inGrace = await app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "m" });
    expect(inGrace.status).toBe(200);
    const graced = (await jwtVerify(inGrace.body.token, jwks)).payload;
    expect(graced.exp).toBe(Math.floor((expiredAt.getTime() + 3 * DAY) / 1000));
    expect(decodeProtectedHeader(inGrace.body.token).kid).toBe(decodeProtectedHeader(beat.body.token).kid);
  });
});
