import { answerKid, newNonce, verifyAnswer } from "./answer";
import { memoryStorage } from "./storage";
import { licenseFromClaims, tokenKid, verifyToken, type TokenClaims } from "./token";
import type { Activation, ActivateResult, CheckResult, Code, DeactivateResult, Jwk, LatestReleaseResult, License, Release, Storage } from "./types";

export type KeysteadOptions = {
  /** Your Keystead server, e.g. https://licenses.example.com */
  url: string;
  /** This machine's identifier (machineFingerprint() from @keystead/client/node, or your own). */
  fingerprint: string;
  /** When set, a license or token of another product is refused. */
  product?: string;
  /**
   * The JWKS keys to trust, shipped inside your software. Strongly advised: without them the SDK trusts the
   * keys it first fetches from `url` (and the keys that server publishes later), so an impostor met at the
   * very first contact would be believed.
   */
  publicKeys?: Jwk[];
  storage?: Storage;
  /** Past the token's exp, how long (from the last successful online contact) the license still counts. */
  graceSeconds?: number;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** How long one request may take before the server counts as unreachable; default 10 s. */
  timeoutMs?: number;
};

const CLOCK_TAMPER_MS = 10 * 60_000;
const DEFAULT_HEARTBEAT_MS = 60 * 60_000;

const K = {
  key: "keystead:key",
  token: "keystead:token",
  jwks: "keystead:jwks",
  lastOnlineAt: "keystead:lastOnlineAt",
  trustedAt: "keystead:trustedAt",
} as const;

type ServerAnswer =
  /** No verified answer to act on: network error, timeout, 5xx or 429 (signed or not). */
  | { kind: "offline"; refused: boolean }
  | { kind: "answer"; status: number; body: any; date: number };

const errorCode = (body: any): Code => (typeof body?.error?.code === "string" ? body.error.code : "BAD_REQUEST");

/** A licensed program's view of its license: online when it can be, offline from a signed token when not. */
export class Keystead {
  private readonly url: string;
  private readonly fingerprint: string;
  private readonly product?: string;
  private readonly pinnedKeys?: Jwk[];
  private readonly storage: Storage;
  private readonly graceMs: number;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private entitlements: string[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(opts: KeysteadOptions) {
    if (!opts?.url) throw new TypeError("Keystead: `url` is required");
    if (!opts.fingerprint) throw new TypeError("Keystead: `fingerprint` is required");
    this.url = opts.url.replace(/\/+$/, "");
    this.fingerprint = opts.fingerprint;
    this.product = opts.product;
    this.pinnedKeys = opts.publicKeys;
    this.storage = opts.storage ?? memoryStorage();
    this.graceMs = (opts.graceSeconds ?? 0) * 1000;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Activates this machine with a license key and stores its offline token. */
  async activate(key: string, opts: { name?: string; platform?: string; metadata?: Record<string, unknown> } = {}): Promise<ActivateResult> {
    const answer = await this.post("/api/v1/licenses/activate", { key, fingerprint: this.fingerprint, product: this.product, ...opts });
    if (answer.kind === "offline") {
      return { ok: false, code: answer.refused ? "SIGNATURE_INVALID" : "UNREACHABLE", license: null, activation: null };
    }
    if (answer.status !== 200 && answer.status !== 201) return { ok: false, code: errorCode(answer.body), license: null, activation: null };
    const stored = await this.storeFreshToken(answer.body?.token, answer.date);
    if (!stored.ok) return { ok: false, code: stored.code, license: null, activation: null };
    await this.storage.set(K.key, key);
    this.entitlements = stored.claims.entitlements;
    return { ok: true, code: "VALID", license: answer.body.license as License, activation: answer.body.activation as Activation };
  }

  /**
   * Is this machine licensed now? Asks the server (heartbeat) when it can; when it cannot (unreachable, 5xx,
   * 429, or an answer that is not provably Keystead's), verifies the stored token offline.
   */
  async check(): Promise<CheckResult> {
    const key = await this.storage.get(K.key);
    if (!key) return this.remember(await this.offline(false));
    const answer = await this.post("/api/v1/licenses/heartbeat", { key, fingerprint: this.fingerprint, product: this.product });
    if (answer.kind === "offline") return this.remember(await this.offline(answer.refused));
    if (answer.status === 200) {
      const stored = await this.storeFreshToken(answer.body?.token, answer.date);
      if (!stored.ok) return this.remember(invalid(stored.code, "online"));
      return this.remember({
        valid: true,
        code: "VALID",
        source: "online",
        license: answer.body.license as License,
        entitlements: stored.claims.entitlements,
        tokenExpiresAt: new Date(stored.claims.exp * 1000).toISOString(),
      });
    }
    const code = errorCode(answer.body);
    // The server, provably, says this machine may not run: the token must not keep it running offline.
    if (["SUSPENDED", "REVOKED", "EXPIRED", "NOT_ACTIVATED", "NOT_FOUND"].includes(code)) await this.storage.delete(K.token);
    return this.remember(invalid(code, "online"));
  }

  /** Whether the last valid check (or activation) granted `entitlement`. */
  has(entitlement: string): boolean {
    return this.entitlements.includes(entitlement);
  }

  /**
   * The newest release this machine's license may download (POST /api/v1/releases/latest), for your updater.
   * Like every call, the answer counts only if its signature verifies; the link it carries lives minutes.
   * `channel` "beta" also offers stable releases; a `platform` ("windows-x64") also gets builds for every platform.
   */
  async latestRelease(opts: { channel?: "stable" | "beta"; platform?: string } = {}): Promise<LatestReleaseResult> {
    const none = (code: Code): LatestReleaseResult => ({ ok: false, code, release: null, url: null, expiresAt: null });
    const key = await this.storage.get(K.key);
    if (!key) return none("NO_TOKEN");
    const answer = await this.post("/api/v1/releases/latest", { key, fingerprint: this.fingerprint, ...opts });
    if (answer.kind === "offline") return none(answer.refused ? "SIGNATURE_INVALID" : "UNREACHABLE");
    if (answer.status !== 200) return none(errorCode(answer.body));
    const { release, url, expiresAt } = answer.body ?? {};
    if (!release || typeof url !== "string") return none("SIGNATURE_INVALID");
    return { ok: true, code: "VALID", release: release as Release, url, expiresAt };
  }

  /** Frees this machine's seat and forgets the license locally. */
  async deactivate(): Promise<DeactivateResult> {
    const key = await this.storage.get(K.key);
    if (!key) {
      await this.forget();
      return { ok: false, code: "NO_TOKEN" };
    }
    const answer = await this.post("/api/v1/licenses/deactivate", { key, fingerprint: this.fingerprint });
    if (answer.kind === "offline") return { ok: false, code: answer.refused ? "SIGNATURE_INVALID" : "UNREACHABLE" };
    if (answer.status !== 200) {
      const code = errorCode(answer.body);
      if (code === "NOT_ACTIVATED" || code === "NOT_FOUND") await this.forget();
      return { ok: false, code };
    }
    await this.forget();
    return { ok: true, code: "DEACTIVATED" };
  }

  /**
   * Loads an activation file (air-gapped machines): the signed token it holds, checked offline, then stored
   * so later check() calls verify it offline until it expires. Pin `publicKeys`: a machine that never goes
   * online cannot fetch the JWKS.
   */
  async loadActivationFile(text: string): Promise<CheckResult> {
    const token = parseActivationFile(text);
    const keys = await this.keysFor(token ? tokenKid(token) : null);
    const checked = token ? verifyToken(token, keys, { fingerprint: this.fingerprint, product: this.product }) : null;
    if (!token || !checked?.ok) return this.remember(invalid(tokenFailureCode(checked), "none"));
    await this.storage.set(K.token, token);
    return this.check();
  }

  /**
   * Checks every `intervalMs` (default one hour) in the background, keeping the token fresh; `onCheck` hears
   * each result (to lock the software the moment a license is revoked, say).
   */
  startHeartbeat(intervalMs = DEFAULT_HEARTBEAT_MS, onCheck?: (result: CheckResult) => void): void {
    this.stopHeartbeat();
    this.timer = setInterval(() => void this.check().then(onCheck, () => undefined), intervalMs);
    // In Node, a heartbeat alone must not keep the program alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private remember(result: CheckResult): CheckResult {
    this.entitlements = result.valid ? result.entitlements : [];
    return result;
  }

  private async forget() {
    this.entitlements = [];
    await this.storage.delete(K.token);
    await this.storage.delete(K.key);
    await this.storage.delete(K.lastOnlineAt);
  }

  /**
   * The offline verdict on the stored token. `refused`: the server's answer was not provably Keystead's; it
   * counts as no answer at all (our own token, signed by the real server, still speaks; the impostor never
   * does), and names the failure when there is no token to speak.
   */
  private async offline(refused: boolean): Promise<CheckResult> {
    const fail = (code: Code) => invalid(refused && code === "NO_TOKEN" ? "SIGNATURE_INVALID" : code, "none");
    const token = await this.storage.get(K.token);
    if (!token) return fail("NO_TOKEN");
    // Offline means no network: only keys already known count (pinned, or cached at the last online call).
    const checked = verifyToken(token, await this.knownKeys(), { fingerprint: this.fingerprint, product: this.product });
    if (!checked.ok) return fail(tokenFailureCode(checked));
    const { claims } = checked;

    const at = this.now();
    const trustedAt = Math.max(Number((await this.storage.get(K.trustedAt)) ?? 0) || 0, claims.iat * 1000);
    if (at < trustedAt - CLOCK_TAMPER_MS) return fail("CLOCK_TAMPERED");
    if (at > trustedAt) await this.storage.set(K.trustedAt, String(at));

    const result = (source: "offline" | "grace"): CheckResult => ({
      valid: true,
      code: "VALID",
      source,
      license: licenseFromClaims(claims),
      entitlements: licenseFromClaims(claims).entitlements,
      tokenExpiresAt: new Date(claims.exp * 1000).toISOString(),
    });
    if (at < claims.exp * 1000) return result("offline");
    const lastOnlineAt = Number(await this.storage.get(K.lastOnlineAt)) || claims.iat * 1000;
    if (at < lastOnlineAt + this.graceMs) return result("grace");
    return { ...fail("TOKEN_EXPIRED"), tokenExpiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  /** Verifies and stores a token from a verified answer; the answer's Date becomes the trusted time. */
  private async storeFreshToken(token: unknown, date: number): Promise<{ ok: true; claims: TokenClaims } | { ok: false; code: Code }> {
    if (typeof token !== "string") return { ok: false, code: "SIGNATURE_INVALID" };
    const checked = verifyToken(token, await this.keysFor(tokenKid(token)), { fingerprint: this.fingerprint, product: this.product });
    if (!checked.ok) return { ok: false, code: tokenFailureCode(checked) };
    await this.storage.set(K.token, token);
    await this.storage.set(K.lastOnlineAt, String(date));
    return { ok: true, claims: checked.claims };
  }

  /** POSTs JSON with a fresh nonce and returns the answer only if it is provably Keystead's. */
  private async post(path: string, body: unknown): Promise<ServerAnswer> {
    const nonce = newNonce();
    let res: Response;
    let bytes: Uint8Array;
    try {
      res = await fetch(this.url + path, {
        method: "POST",
        headers: { "content-type": "application/json", "keystead-nonce": nonce },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch {
      return { kind: "offline", refused: false };
    }
    const trustedAt = Number(await this.storage.get(K.trustedAt)) || 0;
    const checked = verifyAnswer({
      method: "POST",
      path: new URL(this.url + path).pathname,
      nonce,
      headers: res.headers,
      body: bytes,
      keys: await this.keysFor(answerKid(res.headers)),
      nearAny: trustedAt ? [this.now(), trustedAt] : [this.now()],
    });
    if (!checked.ok) return { kind: "offline", refused: true };
    // The server's clock is the truth: it also clears a trusted time pushed ahead by a clock that ran fast.
    await this.storage.set(K.trustedAt, String(checked.date));
    if (res.status >= 500 || res.status === 429) return { kind: "offline", refused: false };
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return { kind: "offline", refused: true };
    }
    return { kind: "answer", status: res.status, body: parsed, date: checked.date };
  }

  private async knownKeys(): Promise<Jwk[]> {
    if (this.pinnedKeys) return this.pinnedKeys;
    const cached = await this.storage.get(K.jwks);
    try {
      return cached ? (JSON.parse(cached) as Jwk[]) : [];
    } catch {
      return [];
    }
  }

  /**
   * The keys to check something signed by `kid` with. Unpinned, an unknown kid (first contact, or a key
   * rotation) fetches the server's JWKS once and caches it.
   */
  private async keysFor(kid: string | null): Promise<Jwk[]> {
    const known = await this.knownKeys();
    if (this.pinnedKeys || !kid || known.some((k) => k.kid === kid)) return known;
    try {
      const res = await fetch(`${this.url}/api/v1/jwks`, { signal: AbortSignal.timeout(this.timeoutMs) });
      const jwks = (await res.json()) as { keys?: unknown };
      if (!res.ok || !Array.isArray(jwks.keys)) return known;
      await this.storage.set(K.jwks, JSON.stringify(jwks.keys));
      return jwks.keys as Jwk[];
    } catch {
      return known;
    }
  }
}

function invalid(code: Code, source: CheckResult["source"]): CheckResult {
  return { valid: false, code, source, license: null, entitlements: [], tokenExpiresAt: null };
}

function tokenFailureCode(checked: { ok: false; reason: string } | { ok: true } | null): Code {
  if (checked && !checked.ok && checked.reason === "WRONG_PRODUCT") return "PRODUCT_MISMATCH";
  if (checked && !checked.ok && checked.reason === "WRONG_FINGERPRINT") return "NOT_ACTIVATED";
  return "SIGNATURE_INVALID";
}

const ACTIVATION_FILE_FORMAT = "keystead-activation-file-v1";

/**
 * An activation file as Keystead writes it: a JSON document `{ "format": "keystead-activation-file-v1", ...,
 * "token" }` (the other fields are for people reading it; only the signed token is trusted). A bare token is
 * accepted too, for files made by hand. A document of another format is refused rather than guessed at.
 */
function parseActivationFile(text: string): string | null {
  const trimmed = String(text ?? "").trim();
  if (!trimmed.startsWith("{")) return trimmed || null;
  try {
    const doc = JSON.parse(trimmed) as { format?: unknown; token?: unknown };
    if (doc.format !== undefined && doc.format !== ACTIVATION_FILE_FORMAT) return null;
    return typeof doc.token === "string" ? doc.token : null;
  } catch {
    return null;
  }
}
