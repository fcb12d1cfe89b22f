import { describe, expect, it } from "vitest";
import { generateLicenseKey, hashLicenseKey, normalizeLicenseKey, revealLicenseKey, sealLicenseKey } from "./license-key";

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
});
