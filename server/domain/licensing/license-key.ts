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
  const normalized = normalizeLicenseKey(key) ?? normalizeForeignKey(key);
  return normalized!.slice(-5);
}

/**
 * Keys imported from another platform (Lemon Squeezy's UUIDs, Keygen's and Gumroad's hex groups, Polar's
 * prefixed keys...) keep working exactly as their customers type them. A key that reads as a Keystead key
 * (25 Crockford characters once dashes and spaces go) is stored and found as one; any other is found by its own
 * normalised text: whitespace removed anywhere, upper-cased, everything else (dashes, underscores, prefixes) kept.
 * Upper-casing folds Lemon Squeezy's lower-case UUIDs and a customer's caps lock alike; no platform we import
 * issues two keys that differ only in case.
 */
export const FOREIGN_KEY_MAX = 255;

export function normalizeForeignKey(input: string): string | null {
  const compact = input.replace(/\s+/g, "").toUpperCase();
  return compact.length === 0 || compact.length > FOREIGN_KEY_MAX ? null : compact;
}

/** Lookup hash of an imported key of another format (a separate hash domain: never equal to a Keystead key's). */
export function foreignKeyHash(input: string): string | null {
  const normalized = normalizeForeignKey(input);
  return normalized === null ? null : sha256Hex(`keystead-foreign-license:${normalized}`);
}

/**
 * The hash a typed key is looked up by: a Keystead key's own, else an imported key's. Still one hash and so one
 * indexed probe of licenses.key_hash: the hot path's single statement does not change.
 */
export function lookupKeyHash(input: string): string | null {
  return hashLicenseKey(input) ?? foreignKeyHash(input);
}

export const displayHint = (hint: string) => `•••••-•••••-•••••-•••••-${hint}`;

/** Everything stored about a new key: its lookup hash, hint and sealed copy. */
export function sealLicenseKey(key: string) {
  return { keyHash: hashLicenseKey(key)!, keyHint: licenseKeyHint(key), keyCiphertext: seal("license-key", key) };
}

/** What is stored for an imported key, whatever its format (see lookupKeyHash). */
export function sealImportedKey(key: string) {
  return { keyHash: lookupKeyHash(key)!, keyHint: licenseKeyHint(key), keyCiphertext: seal("license-key", key) };
}

export function revealLicenseKey(ciphertext: string): string {
  return open("license-key", ciphertext).toString("utf8");
}
