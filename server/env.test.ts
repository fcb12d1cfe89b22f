import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env";

describe("settings", () => {
  it("has the contract's defaults", () => {
    const e = parseEnv({ NODE_ENV: "development" });
    expect(e.APP_URL).toBe("http://localhost:3000");
    expect(e.PORT).toBe(3000);
    expect(e.OFFLINE_TOKEN_TTL).toBe(1_209_600);
    expect(e.RATE_LIMIT_IP).toBe(300);
    expect(e.RATE_LIMIT_KEY).toBe(60);
    expect(e.WORKER).toBe("on");
    expect(e.DATABASE_URL).toBeUndefined();
  });

  it("parses lists and numbers", () => {
    const e = parseEnv({ NODE_ENV: "test", ADMIN_EMAILS: " A@x.com, b@Y.com ,", RATE_LIMIT_IP: "0", OFFLINE_TOKEN_TTL: "1,209,600", WORKER: "off" });
    expect(e.ADMIN_EMAILS).toEqual(["a@x.com", "b@y.com"]);
    expect(e.RATE_LIMIT_IP).toBe(0);
    expect(e.OFFLINE_TOKEN_TTL).toBe(1_209_600);
    expect(e.WORKER).toBe("off");
  });

  it.each([
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ APP_URL: "not a url" }, "APP_URL"],
    [{ PORT: "http" }, "PORT"],
    [{ RATE_LIMIT_KEY: "-1" }, "RATE_LIMIT_KEY"],
    [{ STRIPE_WEBHOOK_SECRET: "secret" }, "STRIPE_WEBHOOK_SECRET"],
    [{ STRIPE_SECRET_KEY: "pk_test_123" }, "STRIPE_SECRET_KEY"],
    [{ SMTP_URL: "http://mail" }, "SMTP_URL"],
    [{ NODE_ENV: "production" }, "AUTH_SECRET"],
    [{}, "AUTH_SECRET"],
    [{ AUTH_SECRET: "short" }, "AUTH_SECRET"],
    [{ AUTH_SECRET: "a-long-enough-secret", AUTH_SECRET_PREVIOUS: "short" }, "AUTH_SECRET_PREVIOUS"],
    [{ WORKER: "maybe" }, "WORKER"],
  ])("names the bad setting in one line: %j", (source, setting) => {
    let error: unknown;
    try {
      parseEnv(source as Record<string, string>);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).setting).toBe(setting);
    expect((error as EnvError).message).toMatch(new RegExp(`^Invalid setting ${setting}: `));
    expect((error as EnvError).message).not.toContain("\n");
  });

  it("falls back to the development secret only when NODE_ENV is explicitly development or test", () => {
    expect(parseEnv({ NODE_ENV: "development" }).AUTH_SECRET).toBeUndefined();
    expect(parseEnv({ NODE_ENV: "test" }).AUTH_SECRET).toBeUndefined();
    // `npm run worker`, `npm run reseal` and any tsx script leave NODE_ENV unset: that is not development.
    expect(() => parseEnv({})).toThrow(/^Invalid setting AUTH_SECRET: is required \(only NODE_ENV=development or test may run on the development secret\)$/);
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/^Invalid setting AUTH_SECRET: is required in production$/);
    expect(parseEnv({ AUTH_SECRET: "a-long-enough-secret", AUTH_SECRET_PREVIOUS: "the-secret-before-it" })).toMatchObject({
      AUTH_SECRET: "a-long-enough-secret",
      AUTH_SECRET_PREVIOUS: "the-secret-before-it",
    });
  });
});
