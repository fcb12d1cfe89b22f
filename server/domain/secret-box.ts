import crypto from "node:crypto";
import { authSecret } from "@/server/env";

/**
 * Authenticated encryption for secrets we must be able to show again (license keys, signing keys).
 * The key is derived from AUTH_SECRET per purpose, so a database dump alone reveals nothing.
 * Format: "v1.<iv>.<ciphertext+tag>" in base64url.
 */
const keys = new Map<string, Buffer>();

function keyFor(purpose: string): Buffer {
  const cacheKey = `${purpose}\0${authSecret()}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = Buffer.from(crypto.hkdfSync("sha256", authSecret(), "keystead", `keystead:${purpose}:v1`, 32));
    keys.set(cacheKey, key);
  }
  return key;
}

export function seal(purpose: string, plaintext: string | Buffer): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", keyFor(purpose), iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString("base64url")}.${ct.toString("base64url")}`;
}

export function open(purpose: string, sealed: string): Buffer {
  const [version, ivPart, ctPart] = sealed.split(".");
  if (version !== "v1" || !ivPart || !ctPart) throw new Error("unknown sealed format");
  const data = Buffer.from(ctPart, "base64url");
  const decipher = crypto.createDecipheriv("aes-256-gcm", keyFor(purpose), Buffer.from(ivPart, "base64url"));
  decipher.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
}

export const sha256Hex = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** A keyed fingerprint of `data` (HMAC-SHA256 under the purpose's key, base64url): proves we issued it. */
export const mac = (purpose: string, data: string) =>
  crypto.createHmac("sha256", keyFor(purpose)).update(data).digest("base64url");
