import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { licenses } from "@/server/db/schema";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense } from "./helpers/factories";
import { signIn, type Browserless } from "./helpers/sign-in";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// The doors around sessions (next-auth's routes, the confirm button, tRPC) against the real built app: they read
// bodies bounded while they stream, and tRPC changes nothing for another site's page.

const ADMIN = "doors-admin@example.com";

let app: TestApp;
let catcher: SmtpCatcher;
beforeAll(async () => {
  catcher = await startSmtpCatcher();
  app = await startApp({ env: { SMTP_URL: catcher.url, ADMIN_EMAILS: ADMIN } });
});
afterAll(async () => {
  await app?.stop();
  await catcher?.stop();
});

/** The pid of the process listening on the app's port (the server itself, not the `next` launcher). */
function serverPid(port: number): number {
  const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`no process listens on ${port}:\n${out}`);
  return Number(pid);
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const MB = 1024 * 1024;

/** A 50 MB body sent chunked (no Content-Length), generated as it is read; `sent` counts what left. */
function chunkedBody(totalBytes = 50 * MB) {
  const state = { sent: 0 };
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  async function* generate() {
    while (state.sent < totalBytes) {
      state.sent += chunk.byteLength;
      yield chunk;
    }
  }
  return { state, body: generate() as unknown as BodyInit };
}

const routes = [
  { path: "/api/auth/signin/email", type: "application/x-www-form-urlencoded" },
  { path: "/api/auth/callback/email", type: "application/x-www-form-urlencoded" },
  { path: "/signin/confirm/go", type: "application/x-www-form-urlencoded" },
  { path: "/api/trpc/licenses.suspend", type: "application/json" },
];

describe("bodies", () => {
  it("a 50 MB chunked POST to each session door is refused with 413 while it streams, and memory stays flat", async () => {
    const pid = serverPid(app.port);
    // Load each route once first, so what is measured is the bodies, not the code the first request loads.
    for (const { path, type } of routes) {
      const res = await fetch(app.url + path, { method: "POST", headers: { "content-type": type, origin: app.url }, body: "{}", redirect: "manual" });
      expect(res.status, path).toBeLessThan(500);
    }
    const before = rssMb(pid);
    for (const { path, type } of routes) {
      const { state, body } = chunkedBody();
      const res = await fetch(app.url + path, {
        method: "POST",
        headers: { "content-type": type, origin: app.url },
        body,
        duplex: "half",
        redirect: "manual",
      } as RequestInit);
      expect(res.status, path).toBe(413);
      expect((await res.json()).error.code, path).toBe("PAYLOAD_TOO_LARGE");
      // The answer came long before the end: what the client pushed in meanwhile is what socket buffers hold.
      expect(state.sent, path).toBeLessThan(25 * MB);
    }
    const growth = rssMb(pid) - before;
    // Buffering any one of these bodies would add at least 50 MB.
    expect(growth).toBeLessThan(30);
  });

  it("a body just over the limit with its Content-Length is refused before it is read", async () => {
    const res = await fetch(`${app.url}/api/auth/signin/email`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=${"a".repeat(17 * 1024)}`,
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: "The body must be at most 16384 bytes." });
  });

  it("malformed bodies get a 4xx from every session door, never a 5xx", async () => {
    const bodies: [string, BodyInit][] = [
      ["application/json", "{"],
      ["application/json", "[1, 2"],
      ["application/x-www-form-urlencoded", new Uint8Array([0xff, 0xfe, 0x25, 0x25])],
      ["multipart/form-data; boundary=x", "--x\r\nnonsense"],
      ["text/plain", "email=a@example.com"],
    ];
    const paths = [...routes.map((r) => r.path), "/api/auth/signout", "/api/auth/session", "/api/auth/_log"];
    for (const path of paths) {
      for (const [type, body] of bodies) {
        const res = await fetch(app.url + path, { method: "POST", headers: { "content-type": type, origin: app.url }, body, redirect: "manual" });
        expect(res.status, `${path} ${type}`).toBeLessThan(500);
      }
    }
  });
});

describe("tRPC mutations", () => {
  let admin: Browserless;
  beforeAll(async () => {
    admin = await signIn(app.url, catcher, ADMIN);
  });

  const suspend = (id: string, headers: Record<string, string>) =>
    admin.request("/api/trpc/licenses.suspend", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ id, reason: "chargeback" }),
    });
  const statusOf = async (id: string) => (await app.database.db.select().from(licenses).where(eq(licenses.id, id)))[0]!.status;

  it("are refused for another site's page, even with a valid admin session, and change nothing", async () => {
    const { license } = await makeLicense(app.database.db);
    const foreign: Record<string, string>[] = [{ origin: "https://evil.example" }, { origin: "null" }, { "sec-fetch-site": "cross-site" }];
    for (const headers of foreign) {
      const res = await suspend(license.id, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect((await res.json()).error.data).toMatchObject({ code: "FORBIDDEN", appCode: "FORBIDDEN" });
    }
    expect(await statusOf(license.id)).toBe("active");
    // Reading is not refused: another site cannot read the answer (no CORS), and nothing changes.
    const read = await admin.request(`/api/trpc/licenses.get?input=${encodeURIComponent(JSON.stringify({ id: license.id }))}`, {
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(read.status).toBe(200);
  });

  it("work from the app's own pages, and from clients that name no site", async () => {
    for (const headers of [{ origin: app.url, "sec-fetch-site": "same-origin" }, {}] as Record<string, string>[]) {
      const { license } = await makeLicense(app.database.db);
      const res = await suspend(license.id, headers);
      expect(res.status, JSON.stringify(headers)).toBe(200);
      expect(await statusOf(license.id)).toBe("suspended");
    }
  });
});
