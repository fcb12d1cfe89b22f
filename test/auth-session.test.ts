import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTRPCContext } from "@/server/api/trpc";
import { hashSessionToken } from "@/server/auth/hashed-adapter";
import { loadAppSession, sessionTokenFromCookieHeader } from "@/server/auth/session";
import { sessionCookieNameFor } from "@/server/auth/cookies";
import { sessions, users } from "@/server/db/schema";
import { closeDb } from "@/server/db/client";
import { resetEnvCache } from "@/server/env";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makeCustomer } from "./helpers/factories";

// The session behind a request, read from next-auth's tables: the tRPC context and the pages both use it.

let database: TestDb;
beforeAll(async () => {
  database = await createTestDatabase("authsession");
  await useProcessDatabase(database.url, { ADMIN_EMAILS: " Boss@Example.com , ops@example.com", APP_URL: "http://127.0.0.1:3000" });
});
afterAll(async () => {
  await closeDb();
  delete process.env.ADMIN_EMAILS;
  resetEnvCache();
  await database?.drop();
});

async function signedIn(email: string, expires = new Date(Date.now() + 3_600_000)) {
  const [user] = await database.db.insert(users).values({ email }).returning();
  const token = crypto.randomUUID();
  await database.db.insert(sessions).values({ sessionToken: hashSessionToken(token), userId: user!.id, expires });
  return { user: user!, token };
}

const withCookie = (token: string, name = "next-auth.session-token") => new Headers({ cookie: `theme=dark; ${name}=${token}; other=1` });

describe("the tRPC context", () => {
  it("is anonymous without a session cookie, or with an unknown one", async () => {
    expect((await createTRPCContext({ headers: new Headers() })).session).toBeNull();
    expect((await createTRPCContext({ headers: withCookie(crypto.randomUUID()) })).session).toBeNull();
  });

  it("finds the customer with the same email whatever its case", async () => {
    const customer = await makeCustomer(database.db, `Mixed.Case-${crypto.randomBytes(3).toString("hex")}@Example.COM`);
    const { user, token } = await signedIn(customer.email.toLowerCase());
    const ctx = await createTRPCContext({ headers: withCookie(token) });
    expect(ctx.session).toEqual({ user: { id: user.id, email: customer.email.toLowerCase(), isAdmin: false }, customerId: customer.id });
  });

  it("has no customer for an email that bought nothing", async () => {
    const { token } = await signedIn(`new-${crypto.randomBytes(3).toString("hex")}@example.com`);
    const ctx = await createTRPCContext({ headers: withCookie(token) });
    expect(ctx.session).toMatchObject({ customerId: null, user: { isAdmin: false } });
  });

  it("makes ADMIN_EMAILS admins, case-insensitively", async () => {
    const { token } = await signedIn("boss@example.com");
    const ctx = await createTRPCContext({ headers: withCookie(token) });
    expect(ctx.session?.user).toMatchObject({ email: "boss@example.com", isAdmin: true });
  });

  it("ignores an expired session", async () => {
    const { token } = await signedIn("ops@example.com", new Date(Date.now() - 1000));
    expect((await createTRPCContext({ headers: withCookie(token) })).session).toBeNull();
  });

  it("reads only the cookie next-auth uses for this APP_URL", async () => {
    const { token } = await signedIn(`cookie-${crypto.randomBytes(3).toString("hex")}@example.com`);
    // http APP_URL: the plain name; the __Secure- name is not next-auth's here.
    expect((await createTRPCContext({ headers: withCookie(token, "__Secure-next-auth.session-token") })).session).toBeNull();
    expect(sessionCookieNameFor("https://licenses.example.com")).toBe("__Secure-next-auth.session-token");
    expect(sessionCookieNameFor("http://127.0.0.1:3000")).toBe("next-auth.session-token");
    expect(await loadAppSession(database.db, token)).not.toBeNull();
  });
});

describe("sessionTokenFromCookieHeader", () => {
  it("picks the named cookie out of a Cookie header", () => {
    expect(sessionTokenFromCookieHeader("a=1; next-auth.session-token=abc%2Fdef; b=2", "next-auth.session-token")).toBe("abc/def");
    expect(sessionTokenFromCookieHeader("xnext-auth.session-token=abc", "next-auth.session-token")).toBeNull();
    expect(sessionTokenFromCookieHeader("next-auth.session-token=%E0%A4%A", "next-auth.session-token")).toBeNull();
    expect(sessionTokenFromCookieHeader(null, "next-auth.session-token")).toBeNull();
  });
});
