import { verifyAsync } from "@noble/ed25519";

/**
 * Reference verifier for Keystead offline tokens, for what customers embed in their software.
 *
 * Deliberately portable: its only dependency is @noble/ed25519 (pure JS, no dependencies of its own) and it
 * uses only globals every modern runtime has (atob, TextEncoder/TextDecoder, and WebCrypto's SHA-512 behind
 * noble's async API), so the same file runs in Node, browsers, Electron, Deno and Bun. Ship it with a copy
 * of the JWKS (GET /api/v1/jwks) and the software can check its license with no network at all.
 */

export type Jwk = { kty?: string; crv?: string; x?: string; kid?: string; alg?: string; use?: string };
export type Jwks = { keys: Jwk[] };

export type PortableClaims = {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  fingerprint: string;
  product: string;
  plan: string;
  entitlements: string[];
  status: string;
  licenseExpiresAt: string | null;
  maxActivations: number;
};

export type VerifyFailure =
  | "MALFORMED"
  | "UNSUPPORTED_ALGORITHM"
  | "UNKNOWN_KEY"
  | "BAD_SIGNATURE"
  | "EXPIRED"
  | "WRONG_ISSUER"
  | "WRONG_FINGERPRINT"
  | "WRONG_PRODUCT";

export type VerifyResult = { valid: true; claims: PortableClaims; kid: string } | { valid: false; reason: VerifyFailure };

export type VerifyOptions = {
  /** Seconds since the epoch; default: the current time. */
  now?: number;
  /** Allowed clock skew in seconds when checking exp; default 0. */
  clockToleranceSeconds?: number;
  /** When given, `iss` must equal it (your server's APP_URL). */
  issuer?: string;
  /** When given, the token must be for this machine. */
  fingerprint?: string;
  /** When given, the token must be for this product slug. */
  product?: string;
};

const B64URL = /^[A-Za-z0-9_-]*$/;

function base64UrlDecode(s: string): Uint8Array | null {
  if (!B64URL.test(s) || s.length % 4 === 1) return null;
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function decodeJson(s: string): unknown {
  const bytes = base64UrlDecode(s);
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks the signature against the JWKS key named by `kid`, then `exp` and the optional expectations. */
export async function verifyOfflineToken(token: string, jwks: Jwks, options: VerifyOptions = {}): Promise<VerifyResult> {
  const fail = (reason: VerifyFailure): VerifyResult => ({ valid: false, reason });
  if (typeof token !== "string") return fail("MALFORMED");
  const parts = token.split(".");
  if (parts.length !== 3) return fail("MALFORMED");
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];

  const header = decodeJson(encodedHeader);
  if (!isObject(header)) return fail("MALFORMED");
  // Pin the algorithm: never let the token choose how it is checked.
  if (header.alg !== "EdDSA" || header.crit !== undefined) return fail("UNSUPPORTED_ALGORITHM");
  if (typeof header.kid !== "string") return fail("UNKNOWN_KEY");

  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") return fail("UNKNOWN_KEY");
  if (jwk.alg !== undefined && jwk.alg !== "EdDSA") return fail("UNKNOWN_KEY");
  const publicKey = base64UrlDecode(jwk.x);
  if (!publicKey || publicKey.length !== 32) return fail("UNKNOWN_KEY");

  const signature = base64UrlDecode(encodedSignature);
  if (!signature || signature.length !== 64) return fail("BAD_SIGNATURE");
  const signingInput = new TextEncoder().encode(`${encodedHeader}.${encodedPayload}`);
  let ok = false;
  try {
    // RFC 8032 semantics (not ZIP-215), the same verdicts as OpenSSL-backed JOSE libraries.
    ok = await verifyAsync(signature, signingInput, publicKey, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) return fail("BAD_SIGNATURE");

  const claims = decodeJson(encodedPayload);
  if (!isObject(claims) || typeof claims.exp !== "number" || typeof claims.sub !== "string") return fail("MALFORMED");
  const nowSeconds = options.now ?? Math.floor(Date.now() / 1000);
  if (claims.exp + (options.clockToleranceSeconds ?? 0) <= nowSeconds) return fail("EXPIRED");
  if (options.issuer !== undefined && claims.iss !== options.issuer) return fail("WRONG_ISSUER");
  if (options.fingerprint !== undefined && claims.fingerprint !== options.fingerprint) return fail("WRONG_FINGERPRINT");
  if (options.product !== undefined && claims.product !== options.product) return fail("WRONG_PRODUCT");
  return { valid: true, claims: claims as PortableClaims, kid: header.kid };
}
