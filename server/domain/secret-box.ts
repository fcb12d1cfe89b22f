import crypto from "node:crypto";
import { authSecret, previousAuthSecret } from "@/server/env";

/**
 * Authenticated encryption for secrets we must be able to show again (license keys, signing keys, sign-in links).
 * The key is derived from AUTH_SECRET per purpose, so a database dump alone reveals nothing.
 * Format: "v1.<iv>.<ciphertext+tag>" in base64url.
 *
 * Rotation: `seal` always uses AUTH_SECRET; `open` tries AUTH_SECRET, then AUTH_SECRET_PREVIOUS, so what was sealed
 * before a change keeps opening until `npm run reseal` (scripts/reseal.ts) has sealed it again under the current one.
 */
const keys = new Map<string, Buffer>();

function keyFor(purpose: string, secret: string): Buffer {
  const cacheKey = `${purpose}\0${secret}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = Buffer.from(crypto.hkdfSync("sha256", secret, "keystead", `keystead:${purpose}:v1`, 32));
    keys.set(cacheKey, key);
  }
  return key;
}

export function seal(purpose: string, plaintext: string | Buffer): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", keyFor(purpose, authSecret()), iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString("base64url")}.${ct.toString("base64url")}`;
}

/** The plaintext if `secret` sealed it, else null (AES-GCM's tag tells a wrong key apart from the right one). */
function openWith(purpose: string, sealed: string, secret: string): Buffer | null {
  const [version, ivPart, ctPart] = sealed.split(".");
  if (version !== "v1" || !ivPart || !ctPart) throw new Error("unknown sealed format");
  const data = Buffer.from(ctPart, "base64url");
  if (data.length < 16) throw new Error("unknown sealed format");
  const decipher = crypto.createDecipheriv("aes-256-gcm", keyFor(purpose, secret), Buffer.from(ivPart, "base64url"));
  decipher.setAuthTag(data.subarray(data.length - 16));
  try {
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  } catch {
    return null;
  }
}

/** Which secret sealed a value, and what it holds; "neither" when it was sealed under some other secret. */
export function openSealed(
  purpose: string,
  sealed: string,
): { under: "current"; plaintext: Buffer } | { under: "previous"; plaintext: Buffer } | { under: "neither" } {
  const current = openWith(purpose, sealed, authSecret());
  if (current) return { under: "current", plaintext: current };
  const previousSecret = previousAuthSecret();
  const previous = previousSecret ? openWith(purpose, sealed, previousSecret) : null;
  return previous ? { under: "previous", plaintext: previous } : { under: "neither" };
}

/** A sealed value that neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS opens. */
export class SealedUnderAnotherSecretError extends Error {
  constructor(readonly purpose: string) {
    super(`cannot open this ${purpose}: it was sealed under neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS`);
    this.name = "SealedUnderAnotherSecretError";
  }
}

export function open(purpose: string, sealed: string): Buffer {
  const opened = openSealed(purpose, sealed);
  if (opened.under === "neither") throw new SealedUnderAnotherSecretError(purpose);
  return opened.plaintext;
}

export const sha256Hex = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/**
 * A keyed fingerprint of `data` (HMAC-SHA256 under the purpose's key, base64url): proves we issued it. Only the
 * current AUTH_SECRET: what is MACed lives minutes (the confirm cookie), so a rotation need not carry it over.
 */
export const mac = (purpose: string, data: string) =>
  crypto.createHmac("sha256", keyFor(purpose, authSecret())).update(data).digest("base64url");
