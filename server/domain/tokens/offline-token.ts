import crypto from "node:crypto";
import { max } from "drizzle-orm";
import { plans, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { DAY_MS, now } from "@/server/domain/clock";
import { env } from "@/server/env";
import { effectiveStatus } from "@/server/domain/licensing/expiry";
import type { LicenseRecord } from "@/server/domain/licensing/lookup";
import { activeSigningKey, signingKeyByKid, type SigningKey } from "./keyring";

/**
 * Offline tokens (CONTRACT.md "Offline tokens"): a compact JWS, EdDSA over Ed25519, that client software
 * verifies with a key from the JWKS and trusts until `exp` without calling us. verify-portable.ts is the
 * reference verifier for what customers embed.
 */
export type OfflineTokenClaims = {
  iss: string;
  /** The license id. */
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  fingerprint: string;
  product: string;
  plan: string;
  entitlements: string[];
  status: LicenseStatus;
  licenseExpiresAt: string | null;
  maxActivations: number;
};

/**
 * `iat + ttl`, but never past the license's expiry: a token must not outlive what it attests. A license
 * already past its expiry but inside the plan's grace days is capped at the end of the grace instead (its
 * expiry is behind it, and the server still honours it until then).
 */
export function offlineTokenExpiry(opts: { iat: number; ttlSeconds: number; expiresAt: Date | null; graceDays: number }): number {
  const byTtl = opts.iat + opts.ttlSeconds;
  if (!opts.expiresAt) return byTtl;
  const expiresAtMs = opts.expiresAt.getTime();
  const capMs = opts.iat * 1000 >= expiresAtMs ? expiresAtMs + opts.graceDays * DAY_MS : expiresAtMs;
  return Math.min(byTtl, Math.floor(capMs / 1000));
}

export function offlineTokenClaims(opts: {
  license: LicenseRecord;
  fingerprint: string;
  issuer: string;
  defaultTtlSeconds: number;
  /** Overrides the plan's lifetime (activation files use the plan's airGappedTtlDays). */
  ttlSeconds?: number;
  at: Date;
}): OfflineTokenClaims {
  const { license, at } = opts;
  const iat = Math.floor(at.getTime() / 1000);
  return {
    iss: opts.issuer,
    sub: license.id,
    iat,
    exp: offlineTokenExpiry({
      iat,
      ttlSeconds: opts.ttlSeconds ?? license.offlineTokenTtlSeconds ?? opts.defaultTtlSeconds,
      expiresAt: license.expiresAt,
      graceDays: license.graceDays,
    }),
    jti: crypto.randomUUID(),
    fingerprint: opts.fingerprint,
    product: license.product,
    plan: license.plan,
    entitlements: license.entitlements,
    status: effectiveStatus(license, at),
    licenseExpiresAt: license.expiresAt ? license.expiresAt.toISOString() : null,
    maxActivations: license.maxActivations,
  };
}

// The encoded header only depends on the kid: encode it once per key.
const encodedHeaders = new Map<string, string>();

function encodedHeader(kid: string): string {
  let h = encodedHeaders.get(kid);
  if (!h) {
    h = Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid })).toString("base64url");
    encodedHeaders.set(kid, h);
  }
  return h;
}

/** Signs claims with the key's native Ed25519 signer (prepared once, in the keyring). */
export function signOfflineToken(key: SigningKey, claims: OfflineTokenClaims): string {
  const signingInput = `${encodedHeader(key.kid)}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  // base64url is ASCII: latin1 encodes it byte for byte, skipping UTF-8's work.
  const signature = key.sign(Buffer.from(signingInput, "latin1"));
  return `${signingInput}.${signature.toString("base64url")}`;
}

/**
 * A fresh token for one activated machine, signed by the current key. Call after the transaction that
 * decided the activation committed: the token must never attest something that was rolled back.
 */
export async function issueOfflineToken(db: DbOrTx, license: LicenseRecord, fingerprint: string, opts: { kid?: string } = {}): Promise<string> {
  return (await issueOfflineTokenWithClaims(db, license, fingerprint, opts)).token;
}

/**
 * issueOfflineToken, also returning the claims; `ttlSeconds` replaces the plan's lifetime (activation files),
 * still capped at the license's expiry.
 */
export async function issueOfflineTokenWithClaims(
  db: DbOrTx,
  license: LicenseRecord,
  fingerprint: string,
  opts: { ttlSeconds?: number; kid?: string } = {},
): Promise<{ token: string; claims: OfflineTokenClaims }> {
  // Which key is active is read for every token (never cached: a cached choice could keep signing with a key
  // retired elsewhere, past the time it stays in the JWKS): here, or by the caller's own query (`kid`, read in
  // the same statement as the license). The parsed KeyObject is cached by kid.
  const key = opts.kid ? await signingKeyByKid(db, opts.kid) : await activeSigningKey(db);
  const claims = offlineTokenClaims({
    license,
    fingerprint,
    issuer: env().APP_URL,
    defaultTtlSeconds: env().OFFLINE_TOKEN_TTL,
    ttlSeconds: opts.ttlSeconds,
    at: now(),
  });
  return { token: signOfflineToken(key, claims), claims };
}

/**
 * The longest lifetime any token signed now can have: what a key rotation must keep the retired key
 * published for (rotateSigningKey's `maxTokenLifetimeSeconds`).
 */
export async function maxOfflineTokenLifetimeSeconds(db: DbOrTx): Promise<number> {
  // Activation files count: a key that signed one must stay published until the file expires.
  const [row] = await db
    .select({ longest: max(plans.offlineTokenTtlSeconds), longestFileDays: max(plans.airGappedTtlDays) })
    .from(plans);
  return Math.max(env().OFFLINE_TOKEN_TTL, row?.longest ?? 0, ((row?.longestFileDays ?? 0) * DAY_MS) / 1000);
}
