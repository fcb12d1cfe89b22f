import { and, eq, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailOutbox, users } from "@/server/db/schema";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { makeCustomer } from "./helpers/factories";
import { askForLink, browserless, type Browserless } from "./helpers/sign-in";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// Sign-in emails cannot be sprayed: the real built app, its real limits (server/auth/limits.ts), real SMTP.
// Each client is a distinct loopback address (127.0.0.x), which the server tells apart by the connection.
// The tests share one app and its counters, in order: the last one counts what the others spent.

let app: TestApp;
let catcher: SmtpCatcher;
beforeAll(async () => {
  catcher = await startSmtpCatcher();
  app = await startApp({ env: { SMTP_URL: catcher.url } });
});
afterAll(async () => {
  await app?.stop();
  await catcher?.stop();
});

let nextClient = 2;
/** A client at an address no earlier request came from. */
const newClient = () => browserless(app.url, { localAddress: `127.0.0.${nextClient++}` });
/** Every answer that got past the limits, across the file (each counts toward the overall ceiling). */
let passedLimits = 0;

async function ask(client: Browserless, email: string) {
  const res = await askForLink(client, email);
  const body = await res.json();
  if (res.status !== 429) passedLimits++;
  return { res, body, url: new URL(body.url) };
}

const count = async (sql: string) => (await app.database.pool.query(sql)).rows[0].n as number;
const tokenRows = () => count("select count(*)::int as n from verification_tokens");
const signInOutbox = () =>
  app.database.db.select({ status: emailOutbox.status }).from(emailOutbox).where(eq(emailOutbox.template, "sign-in-link"));

/** Waits until every queued sign-in email has been handed to SMTP, then returns how many there are. */
async function drainedOutbox(): Promise<number> {
  return eventually(
    async () => {
      const rows = await signInOutbox();
      return rows.every((r) => r.status === "sent") && rows.length;
    },
    60_000,
    "every sign-in email to be sent",
  );
}

function expectRefused(answer: Awaited<ReturnType<typeof ask>>) {
  expect(answer.res.status).toBe(429);
  expect(Number(answer.res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(answer.url.pathname).toBe("/signin");
  expect(answer.url.searchParams.get("error")).toBe("RateLimited");
  expect(answer.body.error.code).toBe("RATE_LIMITED");
}

describe("sign-in emails", () => {
  it("one client asking for 40 new addresses gets 10 links; the other 30 are refused in words, with no token and no email", async () => {
    const client = browserless(app.url);
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await ask(client, `spray-${i}@example.com`));
    const sent = answers.filter((a) => a.res.status === 200);
    expect(sent.map((a) => a.url.pathname)).toEqual(Array(10).fill("/api/auth/verify-request"));
    const refused = answers.filter((a) => a.res.status !== 200);
    expect(refused).toHaveLength(30);
    refused.forEach(expectRefused);

    expect(await drainedOutbox()).toBe(10);
    expect(catcher.messages).toHaveLength(10);
    expect(new Set(catcher.messages.flatMap((m) => m.to))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `spray-${i}@example.com`)));
    expect(await tokenRows()).toBe(10);

    // The sign-in page puts the refusal in words (the form shows the same words for the same code).
    const page = await (await fetch(refused[0]!.url)).text();
    expect(page).toContain("Too many sign-in links were asked for. Wait a few minutes, then try again.");

    // A plain form post (no JavaScript, no json=true) is sent to that page instead.
    const plain = await client.request("/api/auth/signin/email", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: "plain@example.com" }),
    });
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe(refused[0]!.url.toString());
    expect(await tokenRows()).toBe(10);
  });

  it("answers the same for an address with an account and one without, allowed or refused", async () => {
    await makeCustomer(app.database.db, "known@example.com");
    await app.database.db.insert(users).values({ email: "known@example.com" });
    const shape = async (a: Awaited<ReturnType<typeof ask>>) => ({
      status: a.res.status,
      type: a.res.headers.get("content-type"),
      // Its value counts down by the second; whether it is there is what must match.
      retryAfter: a.res.headers.has("retry-after"),
      cookies: a.res.headers.getSetCookie().map((c) => c.split("=")[0]),
      body: a.body,
    });
    const allowed = newClient();
    const known = await shape(await ask(allowed, "known@example.com"));
    const unknown = await shape(await ask(allowed, "unknown@example.com"));
    expect(known.status).toBe(200);
    expect(unknown).toEqual(known);

    const spent = newClient();
    for (let i = 0; i < 10; i++) expect((await ask(spent, `filler-${i}@example.com`)).res.status).toBe(200);
    const knownRefused = await ask(spent, "known@example.com");
    const unknownRefused = await ask(spent, "unknown@example.com");
    expectRefused(knownRefused);
    expect(await shape(unknownRefused)).toEqual(await shape(knownRefused));
  });

  it("refuses a bad address in words", async () => {
    const bad = await ask(newClient(), "not-an-email");
    expect(bad.url.searchParams.get("error")).toBe("EmailSignin");
    expect(await (await fetch(bad.url)).text()).toContain("We could not send the sign-in email");
  });

  it("gives one address at most 5 links per 15 minutes, whoever asks", async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await ask(newClient(), "Flood@Example.com"));
    expect(answers.slice(0, 5).map((a) => a.url.pathname)).toEqual(Array(5).fill("/api/auth/verify-request"));
    expectRefused(answers[5]!);
    // The same client may still ask for another address: it was the address that was refused.
    const client = newClient();
    expectRefused(await ask(client, "flood@example.com"));
    expect((await ask(client, "someone-else@example.com")).res.status).toBe(200);
  });

  it("stops at 100 links an hour overall, however many clients ask", async () => {
    let refusal: Awaited<ReturnType<typeof ask>> | undefined;
    for (let c = 0; !refusal && c < 20; c++) {
      const client = newClient();
      // Under each client's own limit, each address new: only the overall ceiling can refuse.
      for (let i = 0; !refusal && i < 9; i++) {
        const answer = await ask(client, `crowd-${c}-${i}@example.com`);
        if (answer.res.status === 429) refusal = answer;
      }
    }
    expect(refusal, "the overall ceiling was never reached").toBeDefined();
    expectRefused(refusal!);
    expect(passedLimits).toBe(100);
    // Every link that got past the limits made one token and one email (the bad address made neither).
    expect(await tokenRows()).toBe(99);
    expect(await drainedOutbox()).toBe(99);
    expect(catcher.messages).toHaveLength(99);
    const failed = await app.database.db.select().from(emailOutbox).where(and(eq(emailOutbox.template, "sign-in-link"), ne(emailOutbox.status, "sent")));
    expect(failed).toEqual([]);
  });
});
