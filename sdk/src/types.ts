/** Shapes of the public contract (CONTRACT.md) as the SDK sees them. */

export type Jwk = { kty?: string; crv?: string; x?: string; kid?: string; alg?: string; use?: string };

export type License = {
  id: string;
  status: "active" | "past_due" | "suspended" | "revoked" | "expired";
  product: string;
  plan: string;
  expiresAt: string | null;
  entitlements: string[];
  maxActivations: number;
  /** Only known online: an offline check reads the license from the token, which does not count seats. */
  activations?: number;
};

export type Activation = {
  id: string;
  fingerprint: string;
  name: string | null;
  platform: string | null;
  createdAt: string;
  lastSeenAt: string | null;
};

/** The codes of the public license routes. */
export type ServerCode =
  | "VALID"
  | "NOT_FOUND"
  | "SUSPENDED"
  | "REVOKED"
  | "EXPIRED"
  | "NOT_ACTIVATED"
  | "PRODUCT_MISMATCH"
  | "ENTITLEMENTS_MISSING"
  | "TOO_MANY_ACTIVATIONS"
  | "BAD_REQUEST"
  | "RATE_LIMITED";

/** The server's codes plus the SDK's own. UNREACHABLE: activate/deactivate found no server to ask. */
export type Code = ServerCode | "TOKEN_EXPIRED" | "CLOCK_TAMPERED" | "SIGNATURE_INVALID" | "NO_TOKEN" | "UNREACHABLE";

export type CheckResult = {
  valid: boolean;
  code: Code;
  source: "online" | "offline" | "grace" | "none";
  license: License | null;
  entitlements: string[];
  tokenExpiresAt: string | null;
};

export type ActivateResult = { ok: boolean; code: Code; license: License | null; activation: Activation | null };

/** A release as POST /api/v1/releases/latest describes it. */
export type Release = {
  id: string;
  product: string;
  version: string;
  channel: "stable" | "beta";
  platform: string | null;
  notes: string | null;
  fileName: string | null;
  /** Hex sha256 of the file (null for a release hosted elsewhere): check the download against it. */
  sha256: string | null;
  size: number | null;
  createdAt: string;
};

/**
 * `ok`: `release` is the newest one this license may download on that channel and platform, and `url` a
 * short-lived signed link to it (valid until `expiresAt`). NOT_FOUND: there is none (you are up to date, or
 * nothing was published for this platform).
 */
export type LatestReleaseResult =
  | { ok: true; code: "VALID"; release: Release; url: string; expiresAt: string }
  | { ok: false; code: Code; release: null; url: null; expiresAt: null };

export type DeactivateResult = { ok: boolean; code: Code | "DEACTIVATED" };

/** Where the SDK keeps its state (token, key, cached JWKS, trusted time). Sync or async. */
export type Storage = {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
  delete(key: string): void | Promise<void>;
};
