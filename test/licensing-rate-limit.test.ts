import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatLicenseKey, generateLicenseKey } from "@/server/domain/licensing/license-key";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense } from "./helpers/factories";

// Each test speaks from its own client address, so the per-IP buckets of one test do not touch another's.
const ip = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;
const from = (address: string) => ({ "x-forwarded-for": address });

describe("rate limits on the public license routes", () => {
  let limited: TestApp;
  let unlimited: TestApp;
  beforeAll(async () => {
    [limited, unlimited] = await Promise.all([
      startApp({ env: { RATE_LIMIT_KEY: "5", RATE_LIMIT_IP: "12" } }),
      startApp({ env: { RATE_LIMIT_KEY: "0", RATE_LIMIT_IP: "0" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([limited?.stop(), unlimited?.stop()]);
  });

  it("the 6th request for one key within a minute gets 429 RATE_LIMITED with Retry-After", async () => {
    const { key } = await makeLicense(limited.database.db);
    const address = ip();
    for (let i = 0; i < 5; i++) {
      const res = await limited.post("/api/v1/licenses/validate", { key }, from(address));
      expect(res.status).toBe(200);
    }
    const sixth = await limited.post("/api/v1/licenses/validate", { key }, from(address));
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe("RATE_LIMITED");
    expect(sixth.body.error.message).toEqual(expect.any(String));
    const retryAfter = Number(sixth.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // The key's budget is shared across routes, spellings and addresses: it limits the key, not the caller.
    const respelled = key.toLowerCase().replaceAll("-", "").replaceAll("0", "o");
    for (const [route, body] of [
      ["validate", { key: respelled }],
      ["activate", { key, fingerprint: "fp" }],
      ["heartbeat", { key, fingerprint: "fp" }],
    ] as const) {
      const res = await limited.post(`/api/v1/licenses/${route}`, body, from(ip()));
      expect([route, res.status, res.body.error?.code]).toEqual([route, 429, "RATE_LIMITED"]);
    }

    // Another key from the same address is unaffected.
    const other = await makeLicense(limited.database.db);
    expect((await limited.post("/api/v1/licenses/validate", { key: other.key }, from(address))).status).toBe(200);
  });

  it("the request after RATE_LIMIT_IP from one address gets 429, whatever the key", async () => {
    const address = ip();
    const keys = Array.from({ length: 13 }, generateLicenseKey);
    for (let i = 0; i < 12; i++) {
      const res = await limited.post("/api/v1/licenses/validate", { key: keys[i] }, from(address));
      expect(res.status).toBe(200);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    const over = await limited.post("/api/v1/licenses/validate", { key: keys[12] }, from(address));
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe("RATE_LIMITED");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Malformed requests count too, and are refused before they are parsed.
    expect((await limited.post("/api/v1/licenses/activate", "{", from(address))).status).toBe(429);
    // The JWKS is limited per address as well.
    expect((await limited.get("/api/v1/jwks", from(address))).status).toBe(429);
    // Other addresses are unaffected.
    expect((await limited.post("/api/v1/licenses/validate", { key: keys[12] }, from(ip()))).status).toBe(200);
  });

  it("0 disables both limits", async () => {
    const { key } = await makeLicense(unlimited.database.db);
    const address = ip();
    const statuses = [];
    // More than the defaults would allow for one key (60) from one address.
    for (let batch = 0; batch < 8; batch++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => unlimited.post("/api/v1/licenses/validate", { key }, from(address))),
      );
      statuses.push(...results.map((r) => r.status));
    }
    expect(statuses).toHaveLength(80);
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it("a key that is not a key is limited by its own spelling", async () => {
    const garbage = formatLicenseKey("Z".repeat(20)).toLowerCase();
    const address = ip();
    for (let i = 0; i < 5; i++) {
      expect((await limited.post("/api/v1/licenses/validate", { key: garbage }, from(address))).status).toBe(200);
    }
    expect((await limited.post("/api/v1/licenses/validate", { key: garbage }, from(address))).status).toBe(429);
  });
});
