import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";

/**
 * The routes that are public but guarded by a secret (the management API's bearer token, Stripe's signature)
 * are rate limited on failures, per IP: guessing gets slow, while the operator's scripts and Stripe are never
 * slowed down.
 */
describe("rate limits on guarded routes", () => {
  let app: TestApp;
  beforeAll(async () => {
    // As if behind one reverse proxy, so each test's X-Forwarded-For entry is its client's address.
    app = await startApp({ env: { RATE_LIMIT_IP: "3", TRUST_PROXY: "1" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const from = (ip: string, extra: Record<string, string> = {}) => ({ "x-forwarded-for": ip, ...extra });

  it("limits failed management API logins per IP, counting only failures", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await app.get("/api/v1/admin/products", from("198.51.100.1", { authorization: "Bearer wrong-token-wrong-token" }))).status).toBe(401);
    }
    const limited = await app.get("/api/v1/admin/products", from("198.51.100.1", { authorization: "Bearer wrong-token-wrong-token" }));
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The limit is checked before the token: from the address that is over it, even the real token waits out
    // the window (a guesser cannot slip a right guess in). Another address is not affected, and there the real
    // token is never counted, any number of times.
    expect((await app.get("/api/v1/admin/products", from("198.51.100.1", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }))).status).toBe(429);
    expect((await app.get("/api/v1/admin/products", from("198.51.100.2", { authorization: "Bearer nope-nope-nope-nope" }))).status).toBe(401);
    for (let i = 0; i < 6; i++) {
      expect((await app.get("/api/v1/admin/products", from("198.51.100.3", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }))).status).toBe(200);
    }
  });

  it("limits unsigned webhook calls per IP", async () => {
    const bad = { "content-type": "application/json", "stripe-signature": "t=1,v1=00" };
    for (let i = 0; i < 3; i++) {
      const res = await app.post("/api/stripe/webhook", "{}", from("203.0.113.9", bad));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("INVALID_SIGNATURE");
    }
    const limited = await app.post("/api/stripe/webhook", "{}", from("203.0.113.9", bad));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
