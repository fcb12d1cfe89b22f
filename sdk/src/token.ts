import { decodeJson, base64UrlDecode, isObject, utf8 } from "./encoding";
import { ed25519PublicKey, verifyEd25519 } from "./ed25519";
import type { Jwk, License } from "./types";

/** Claims of a Keystead offline token (CONTRACT.md "Offline tokens"). */
export type TokenClaims = {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  fingerprint: string;
  product: string;
  plan: string;
  entitlements: string[];
  status: License["status"];
  licenseExpiresAt: string | null;
  maxActivations: number;
};

export type TokenFailure = "MALFORMED" | "UNKNOWN_KEY" | "BAD_SIGNATURE" | "WRONG_FINGERPRINT" | "WRONG_PRODUCT";

export type TokenCheck = { ok: true; claims: TokenClaims; kid: string } | { ok: false; reason: TokenFailure; kid?: string };

/**
 * Checks what a token says about itself: its signature (the algorithm pinned to EdDSA, never chosen by the
 * token), the machine and the product. Time (`exp`, grace, clock) is the caller's business: it needs the
 * SDK's trusted time, not just the local clock.
 */
export function verifyToken(token: string, keys: Jwk[], expect: { fingerprint: string; product?: string }): TokenCheck {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3) return { ok: false, reason: "MALFORMED" };
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader);
  if (!isObject(header) || header.alg !== "EdDSA" || header.crit !== undefined) return { ok: false, reason: "MALFORMED" };
  if (typeof header.kid !== "string") return { ok: false, reason: "UNKNOWN_KEY" };
  const kid = header.kid;
  const publicKey = ed25519PublicKey(keys.find((k) => k.kid === kid));
  if (!publicKey) return { ok: false, reason: "UNKNOWN_KEY", kid };
  const signature = base64UrlDecode(encodedSignature);
  if (!signature || !verifyEd25519(signature, utf8(`${encodedHeader}.${encodedPayload}`), publicKey)) {
    return { ok: false, reason: "BAD_SIGNATURE", kid };
  }
  const claims = decodeJson(encodedPayload);
  if (!isObject(claims) || typeof claims.exp !== "number" || typeof claims.iat !== "number" || typeof claims.sub !== "string") {
    return { ok: false, reason: "MALFORMED", kid };
  }
  if (claims.fingerprint !== expect.fingerprint) return { ok: false, reason: "WRONG_FINGERPRINT", kid };
  if (expect.product !== undefined && claims.product !== expect.product) return { ok: false, reason: "WRONG_PRODUCT", kid };
  return { ok: true, claims: claims as TokenClaims, kid };
}

/** The License a token attests (without the seat count, which only the server knows). */
export function licenseFromClaims(c: TokenClaims): License {
  return {
    id: c.sub,
    status: c.status,
    product: c.product,
    plan: c.plan,
    expiresAt: c.licenseExpiresAt,
    entitlements: Array.isArray(c.entitlements) ? c.entitlements : [],
    maxActivations: c.maxActivations,
  };
}

/** The `kid` a token names, read without verifying anything (to know whether the JWKS must be fetched). */
export function tokenKid(token: string): string | null {
  const header = decodeJson(token.split(".")[0] ?? "");
  return isObject(header) && typeof header.kid === "string" ? header.kid : null;
}
