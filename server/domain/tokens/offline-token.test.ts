import crypto from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { DAY_MS } from "@/server/domain/clock";
import type { LicenseRecord } from "@/server/domain/licensing/lookup";
import { ed25519Signer } from "./ed25519";
import type { PublicJwk, SigningKey } from "./keyring";
import { offlineTokenClaims, offlineTokenExpiry, signOfflineToken } from "./offline-token";
import { verifyOfflineToken } from "./verify-portable";

function makeKey(kid = `kid-${crypto.randomBytes(3).toString("hex")}`): { key: SigningKey; jwk: PublicJwk } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  return { key: { kid, privateKey, publicKeyX: x, sign: ed25519Signer(privateKey) }, jwk: { kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig" } };
}

const license = (over: Partial<LicenseRecord> = {}): LicenseRecord => ({
  id: crypto.randomUUID(),
  status: "active",
  maxActivations: 3,
  expiresAt: null,
  customerId: crypto.randomUUID(),
  plan: "pro",
  product: "editor",
  entitlements: ["export", "sync"],
  graceDays: 0,
  offlineTokenTtlSeconds: null,
  heartbeatWindowSeconds: null,
  ...over,
});

const AT = new Date("2030-01-10T12:00:00.000Z");
const AT_S = AT.getTime() / 1000;

function claimsFor(over: Partial<LicenseRecord> = {}, at = AT) {
  return offlineTokenClaims({ license: license(over), fingerprint: "machine-1", issuer: "https://ks.example", defaultTtlSeconds: 3600, at });
}

describe("offline token expiry", () => {
  it("is iat + ttl for a perpetual license", () => {
    expect(offlineTokenExpiry({ iat: AT_S, ttlSeconds: 600, expiresAt: null, graceDays: 5 })).toBe(AT_S + 600);
  });

  it("never passes the license's expiry", () => {
    const expiresAt = new Date(AT.getTime() + 60_000);
    expect(offlineTokenExpiry({ iat: AT_S, ttlSeconds: 3600, expiresAt, graceDays: 5 })).toBe(AT_S + 60);
    // Grace days do not stretch a token while the license has not expired yet.
    expect(offlineTokenExpiry({ iat: AT_S, ttlSeconds: 30, expiresAt, graceDays: 5 })).toBe(AT_S + 30);
  });

  it("inside the grace period, is capped at the end of the grace", () => {
    const expiresAt = new Date(AT.getTime() - DAY_MS);
    const exp = offlineTokenExpiry({ iat: AT_S, ttlSeconds: 30 * 86400, expiresAt, graceDays: 3 });
    expect(exp).toBe((expiresAt.getTime() + 3 * DAY_MS) / 1000);
  });

  it("uses the plan's ttl over the default", () => {
    expect(claimsFor({ offlineTokenTtlSeconds: 120 }).exp).toBe(AT_S + 120);
    expect(claimsFor().exp).toBe(AT_S + 3600);
  });
});

describe("offline token claims", () => {
  it("carry every claim of the contract", () => {
    const expiresAt = new Date(AT.getTime() + 30 * DAY_MS);
    const c = claimsFor({ expiresAt, status: "past_due" });
    expect(Object.keys(c).sort()).toEqual(
      ["iss", "sub", "iat", "exp", "jti", "fingerprint", "product", "plan", "entitlements", "status", "licenseExpiresAt", "maxActivations"].sort(),
    );
    expect(c).toMatchObject({
      iss: "https://ks.example",
      iat: AT_S,
      fingerprint: "machine-1",
      product: "editor",
      plan: "pro",
      entitlements: ["export", "sync"],
      status: "past_due",
      licenseExpiresAt: expiresAt.toISOString(),
      maxActivations: 3,
    });
    expect(claimsFor().jti).not.toBe(claimsFor().jti);
  });
});

describe("signing and verifying", () => {
  const { key, jwk } = makeKey();
  const other = makeKey();
  const jwks = { keys: [other.jwk, jwk] };
  const claims = claimsFor({}, new Date());

  it("produces a compact EdDSA JWS that jose and the portable verifier both accept", async () => {
    const token = signOfflineToken(key, claims);
    expect(token.split(".")).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "EdDSA", typ: "JWT", kid: key.kid });

    const viaJose = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: "https://ks.example", algorithms: ["EdDSA"] });
    expect(viaJose.payload).toEqual(claims);

    const viaNoble = await verifyOfflineToken(token, jwks, { issuer: "https://ks.example", fingerprint: "machine-1", product: "editor" });
    expect(viaNoble).toEqual({ valid: true, claims, kid: key.kid });
  });

  it("a tampered token fails both verifiers", async () => {
    const token = signOfflineToken(key, claims);
    const [h, p, s] = token.split(".") as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, maxActivations: 1000 })).toString("base64url");
    const flipped = s.slice(0, 10) + (s[10] === "A" ? "B" : "A") + s.slice(11);
    const otherKeySig = signOfflineToken(other.key, claims).split(".")[2];
    const reKid = Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid: other.key.kid })).toString("base64url");
    for (const bad of [`${h}.${forged}.${s}`, `${h}.${p}.${flipped}`, `${h}.${p}.${otherKeySig}`, `${reKid}.${p}.${s}`]) {
      await expect(jwtVerify(bad, createLocalJWKSet(jwks))).rejects.toThrow();
      expect(await verifyOfflineToken(bad, jwks)).toEqual({ valid: false, reason: "BAD_SIGNATURE" });
    }
  });

  it("the portable verifier refuses what it must", async () => {
    const token = signOfflineToken(key, claims);
    const [, p, s] = token.split(".") as [string, string, string];
    const none = Buffer.from(JSON.stringify({ alg: "none", kid: key.kid })).toString("base64url");
    expect(await verifyOfflineToken(`${none}.${p}.${s}`, jwks)).toEqual({ valid: false, reason: "UNSUPPORTED_ALGORITHM" });
    expect(await verifyOfflineToken(token, { keys: [other.jwk] })).toEqual({ valid: false, reason: "UNKNOWN_KEY" });
    expect(await verifyOfflineToken(token, jwks, { now: claims.exp })).toEqual({ valid: false, reason: "EXPIRED" });
    expect((await verifyOfflineToken(token, jwks, { now: claims.exp - 1 })).valid).toBe(true);
    expect(await verifyOfflineToken(token, jwks, { fingerprint: "machine-2" })).toEqual({ valid: false, reason: "WRONG_FINGERPRINT" });
    expect(await verifyOfflineToken(token, jwks, { issuer: "https://evil.example" })).toEqual({ valid: false, reason: "WRONG_ISSUER" });
    expect(await verifyOfflineToken(token, jwks, { product: "other" })).toEqual({ valid: false, reason: "WRONG_PRODUCT" });
    for (const junk of ["", "a.b", "a.b.c", "!!.??.##", `${token}.x`]) {
      expect((await verifyOfflineToken(junk, jwks)).valid).toBe(false);
    }
  });

  it("jose also refuses an expired token", async () => {
    const expired = signOfflineToken(key, { ...claims, iat: claims.iat - 100, exp: claims.iat - 10 });
    await expect(jwtVerify(expired, createLocalJWKSet(jwks))).rejects.toThrow(/exp/);
    expect(await verifyOfflineToken(expired, jwks)).toEqual({ valid: false, reason: "EXPIRED" });
  });
});
