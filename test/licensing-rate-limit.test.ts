import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatLicenseKey, generateLicenseKey } from "@/server/domain/licensing/license-key";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense } from "./helpers/factories";

// Each test speaks from its own client address, so the per-IP buckets of one test do not touch another's: the
// apps run as if behind one reverse proxy (TRUST_PROXY=1), which appends the address it saw.
const ip = () => `10.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${crypto.randomInt(1, 255)}`;
const from = (address: string) => ({ "x-forwarded-for": address });

describe("rate limits on the public license routes", () => {
  let limited: TestApp;
  let unlimited: TestApp;
  beforeAll(async () => {
    [limited, unlimited] = await Promise.all([
      startApp({ env: { RATE_LIMIT_KEY: "5", RATE_LIMIT_IP: "12", TRUST_PROXY: "1" } }),
      startApp({ env: { RATE_LIMIT_KEY: "0", RATE_LIMIT_IP: "0", TRUST_PROXY: "1" } }),
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

  it("TRUST_PROXY=1: the right-most entry is the address; entries to its left, which the client wrote, change nothing", async () => {
    const proxySaw = ip();
    const other = ip();
    // 12 requests (RATE_LIMIT_IP) whose client-written entries all differ, then the 13th meets the limit.
    const statuses = await validateMany(limited, 13, () => ({ "x-forwarded-for": `${ip()}, ${ip()}, ${proxySaw}` }), 1);
    expect(statuses).toEqual([...Array(12).fill(200), 429]);
    // Two different right-most values are two buckets, whatever is on their left.
    expect((await limited.post("/api/v1/licenses/validate", { key: generateLicenseKey() }, from(`${proxySaw}, ${other}`))).status).toBe(200);
  });

  it("failed admin sign-ins at every door (file uploads, imports, exports, API tokens) share one bucket per address", async () => {
    const address = ip();
    const doors = [
      () => limited.post("/api/admin-app/releases", {}, from(address)),
      () => limited.post("/api/admin/import?format=polar", {}, from(address)),
      () => limited.get(`/api/admin/import/${crypto.randomUUID()}`, from(address)),
      () => limited.get("/api/admin/export/json", from(address)),
      () => limited.get("/api/v1/admin/licenses", { ...from(address), authorization: "Bearer ks_not_a_token" }),
    ];
    // RATE_LIMIT_IP is 12: twelve failures, whichever doors they knock on, each a plain 401...
    const failures: number[] = [];
    for (let i = 0; i < 12; i++) failures.push((await doors[i % doors.length]!()).status);
    expect(failures).toEqual(Array(12).fill(401));
    // ...then every door refuses that address, before it looks at any session or token.
    for (const door of doors) {
      const refused = await door();
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe("RATE_LIMITED");
    }
    // Another address is not affected.
    expect((await limited.get("/api/admin/export/json", from(ip()))).status).toBe(401);
  });
});

/** Headers a client makes up to look like someone else: every name a server might read an address from. */
const spoofed = () => {
  const fake = ip();
  return {
    "x-forwarded-for": `${ip()}, ${fake}`,
    "x-real-ip": fake,
    forwarded: `for=${fake}`,
    // The door's own header names, with a made-up marker: only the door's marker is believed.
    "x-keystead-client-address": fake,
    "x-keystead-door": crypto.randomBytes(24).toString("base64url"),
  };
};

/** Sends `count` validate calls, `concurrency` at a time, and returns their statuses. */
async function validateMany(app: TestApp, count: number, headers: () => Record<string, string>, concurrency = 10) {
  const statuses: number[] = [];
  for (let sent = 0; sent < count; sent += concurrency) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(concurrency, count - sent) }, () =>
        app.post("/api/v1/licenses/validate", { key: generateLicenseKey() }, headers()),
      ),
    );
    statuses.push(...batch.map((r) => r.status));
  }
  return statuses;
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe("the client's address is not the client's to choose (TRUST_PROXY)", () => {
  let direct: TestApp;
  let twoProxies: TestApp;
  beforeAll(async () => {
    [direct, twoProxies] = await Promise.all([
      // Only the per-IP limit binds: every request carries a fresh key.
      startApp({ env: { RATE_LIMIT_IP: "20", RATE_LIMIT_KEY: "0" } }),
      startApp({ env: { RATE_LIMIT_IP: "3", RATE_LIMIT_KEY: "0", TRUST_PROXY: "2" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([direct?.stop(), twoProxies?.stop()]);
  });

  it("TRUST_PROXY=0 (the default): 420 calls from one client with made-up forwarding headers meet the per-IP limit", async () => {
    const statuses = await validateMany(direct, 420, spoofed);
    expect(count(statuses, 200)).toBe(20);
    expect(count(statuses, 429)).toBe(400);
  });

  it("TRUST_PROXY=2: the second entry from the right; fewer entries: the left-most one; none: the connection's address", async () => {
    const outerSaw = ip();
    // Through both proxies: client-written entries, then what the outer proxy saw, then what the inner one saw.
    const through = () => ({ "x-forwarded-for": `${ip()}, ${outerSaw}, ${ip()}` });
    expect(await validateMany(twoProxies, 3, through, 1)).toEqual([200, 200, 200]);
    expect(await validateMany(twoProxies, 1, through, 1)).toEqual([429]);
    // One entry only (the request skipped the outer proxy): the inner proxy's peer, the same bucket here.
    expect(await validateMany(twoProxies, 1, () => from(outerSaw), 1)).toEqual([429]);
    // ...and a different one is a different bucket.
    expect(await validateMany(twoProxies, 1, () => from(ip()), 1)).toEqual([200]);
    // No entry: the connection's own address (127.0.0.1 here), one bucket whatever else the client sends.
    const noForwarding = () => {
      const { "x-forwarded-for": _, ...rest } = spoofed();
      return rest;
    };
    expect(await validateMany(twoProxies, 4, noForwarding, 1)).toEqual([200, 200, 200, 429]);
  });

  it("a request that skipped the door (`next start` run directly) cannot forge an address: all share one bucket", async () => {
    const bypass = await startApp({ server: "next-start", env: { RATE_LIMIT_IP: "3", RATE_LIMIT_KEY: "0", TRUST_PROXY: "1" } });
    try {
      expect(await validateMany(bypass, 5, spoofed, 1)).toEqual([200, 200, 200, 429, 429]);
      expect(bypass.logs()).toMatch(/reached a route without passing the door/);
    } finally {
      await bypass.stop();
    }
  });
});
