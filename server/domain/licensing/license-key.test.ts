import { describe, expect, it } from "vitest";
import {
  foreignKeyHash,
  generateLicenseKey,
  hashLicenseKey,
  licenseKeyHint,
  lookupKeyHash,
  normalizeForeignKey,
  normalizeLicenseKey,
  revealLicenseKey,
  sealImportedKey,
  sealLicenseKey,
} from "./license-key";

describe("license keys", () => {
  it("have the contract's format and are unique", () => {
    const keys = new Set(Array.from({ length: 2000 }, generateLicenseKey));
    expect(keys.size).toBe(2000);
    for (const key of keys) expect(key).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$/);
  });

  it("use all 125 bits: every position takes many values", () => {
    const keys = Array.from({ length: 4000 }, () => normalizeLicenseKey(generateLicenseKey())!);
    for (let pos = 0; pos < 25; pos++) {
      const seen = new Set(keys.map((k) => k[pos]));
      // The first character carries 5 bits like the rest (125 = 25 x 5).
      expect(seen.size).toBe(32);
    }
  });

  it("match case-insensitively, ignoring dashes and spaces", () => {
    const key = generateLicenseKey();
    const variants = [key.toLowerCase(), key.replaceAll("-", ""), ` ${key.replaceAll("-", " ")} `];
    for (const v of variants) expect(hashLicenseKey(v)).toBe(hashLicenseKey(key));
    expect(hashLicenseKey("not a key")).toBeNull();
    expect(hashLicenseKey(key.slice(0, -1))).toBeNull();
    expect(hashLicenseKey(key.slice(0, -1) + "U")).toBeNull();
  });

  it("are stored without the plain key, and can be revealed with the secret", () => {
    const key = generateLicenseKey();
    const stored = sealLicenseKey(key);
    expect(JSON.stringify(stored)).not.toContain(normalizeLicenseKey(key));
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(revealLicenseKey(stored.keyCiphertext)).toBe(key);
  });

  it("imported keys of another format are found by their own normalised text: whitespace out, upper case, all else kept", () => {
    const ls = "80e15db5-c796-436b-850c-8f9c98a48abe";
    expect(normalizeForeignKey(` ${ls}\n`)).toBe(ls.toUpperCase());
    for (const typed of [ls, ls.toUpperCase(), ` ${ls} `, ls.replace("-", " - ")]) expect(lookupKeyHash(typed), typed).toBe(lookupKeyHash(ls));
    // Dashes and prefixes are part of the key: another spelling is another key.
    expect(lookupKeyHash(ls.replaceAll("-", ""))).not.toBe(lookupKeyHash(ls));
    expect(lookupKeyHash("MYAPP_ABC")).not.toBe(lookupKeyHash("MYAPP-ABC"));
    // A Keystead key keeps its own hash (and its O/0, I/L/1 folding); the two hash domains never meet.
    const key = generateLicenseKey();
    expect(lookupKeyHash(key.toLowerCase())).toBe(hashLicenseKey(key));
    expect(foreignKeyHash(key)).not.toBe(hashLicenseKey(key));
    expect(lookupKeyHash("")).toBeNull();
    expect(lookupKeyHash("x".repeat(256))).toBeNull();
    expect(licenseKeyHint(ls)).toBe("48ABE");
    const stored = sealImportedKey(ls);
    expect(stored.keyHash).toBe(lookupKeyHash(ls));
    expect(JSON.stringify(stored).toUpperCase()).not.toContain(ls.toUpperCase());
    expect(revealLicenseKey(stored.keyCiphertext)).toBe(ls);
  });
});
