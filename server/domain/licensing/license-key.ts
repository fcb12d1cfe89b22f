import crypto from "node:crypto";
import { open, seal, sha256Hex } from "@/server/domain/secret-box";

/**
 * License keys: XXXXX-XXXXX-XXXXX-XXXXX-XXXXX, 25 Crockford base32 characters = 125 random bits.
 * Input is case-insensitive and ignores dashes and spaces; Crockford's look-alikes (O->0, I/L->1) are
 * folded so a key read aloud or retyped still matches.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const KEY_CHARS = 25;

export function generateLicenseKey(): string {
  const bytes = crypto.randomBytes(16); // 128 bits; we use the first 125
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  bits >>= 3n;
  let out = "";
  for (let i = 0; i < KEY_CHARS; i++) {
    out = ALPHABET[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return formatLicenseKey(out);
}

/** Canonical form (25 upper-case characters, no separators), or null when the input cannot be a key. */
export function normalizeLicenseKey(input: string): string | null {
  const compact = input
    .replace(/[\s-]+/g, "")
    .toUpperCase()
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (compact.length !== KEY_CHARS) return null;
  for (const ch of compact) if (!ALPHABET.includes(ch)) return null;
  return compact;
}

export function formatLicenseKey(compact: string): string {
  return compact.match(/.{5}/g)!.join("-");
}

/** Lookup hash of a key; null for input that cannot be a key (it then matches nothing). */
export function hashLicenseKey(input: string): string | null {
  const normalized = normalizeLicenseKey(input);
  return normalized === null ? null : sha256Hex(`keystead-license:${normalized}`);
}

export function licenseKeyHint(key: string): string {
  const normalized = normalizeLicenseKey(key)!;
  return normalized.slice(-5);
}

export const displayHint = (hint: string) => `•••••-•••••-•••••-•••••-${hint}`;

/** Everything stored about a new key: its lookup hash, hint and sealed copy. */
export function sealLicenseKey(key: string) {
  return { keyHash: hashLicenseKey(key)!, keyHint: licenseKeyHint(key), keyCiphertext: seal("license-key", key) };
}

export function revealLicenseKey(ciphertext: string): string {
  return open("license-key", ciphertext).toString("utf8");
}
