import { afterEach, describe, expect, it } from "vitest";
import { cameThroughConfirm, clearedConfirmedCookie, confirmCookieName, confirmedCookie } from "@/server/auth/sign-in-link";
import { resetEnvCache } from "@/server/env";

// The confirm button's cookie (server/auth/sign-in-link.ts) as an https deployment sets it; the built app in the
// HTTP tests runs on http, where test/auth-http.test.ts checks the rest of its life.

const saved = { APP_URL: process.env.APP_URL, AUTH_SECRET: process.env.AUTH_SECRET };
function deployment(appUrl: string, secret = "confirm-cookie-secret-0123456789") {
  Object.assign(process.env, { APP_URL: appUrl, AUTH_SECRET: secret });
  resetEnvCache();
}
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  resetEnvCache();
});

const valueOf = (setCookie: string) => setCookie.slice(setCookie.indexOf("=") + 1, setCookie.indexOf(";"));

describe("the confirm cookie", () => {
  it("over https is __Secure- and Secure, scoped to the callback, short-lived, HttpOnly and SameSite=Lax", () => {
    deployment("https://licenses.example.com");
    const set = confirmedCookie("token-1");
    expect(set).toMatch(/^__Secure-keystead\.sign-in-confirmed=[\w-]{43}; Path=\/api\/auth\/callback\/email; Max-Age=300; HttpOnly; SameSite=Lax; Secure$/);
    expect(confirmCookieName()).toBe("__Secure-keystead.sign-in-confirmed");
    expect(clearedConfirmedCookie()).toMatch(/^__Secure-keystead\.sign-in-confirmed=; .*Max-Age=0;/);
  });

  it("proves the button only for its own token, and only under this AUTH_SECRET", () => {
    deployment("http://127.0.0.1:3000");
    const value = valueOf(confirmedCookie("token-1"));
    expect(cameThroughConfirm(value, "token-1")).toBe(true);
    expect(cameThroughConfirm(value, "token-2")).toBe(false);
    expect(cameThroughConfirm(value.slice(1), "token-1")).toBe(false);
    expect(cameThroughConfirm(undefined, "token-1")).toBe(false);
    expect(cameThroughConfirm(value, null)).toBe(false);
    deployment("http://127.0.0.1:3000", "another-secret-0123456789abcdef");
    expect(cameThroughConfirm(value, "token-1")).toBe(false);
  });
});
