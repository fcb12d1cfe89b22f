import fs from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";

/**
 * The door (server/http/door.ts): one node:http server per process, in front of Next. Pages and license
 * routes share its port, unauthenticated bodies are bounded while they stream, and it shuts down cleanly.
 */

const MB = 1024 * 1024;

/** The app process's resident memory, from the kernel. */
function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(kb![1]) * 1024;
}

type Streamed = { status?: number; body?: string; error?: string; sentBytes: number };

/**
 * POSTs `totalBytes` as a chunked body (no Content-Length), 64 KB at a time and as fast as the server reads
 * it, stopping early once the server has answered.
 */
function postChunked(url: string, route: string, totalBytes: number, headers: Record<string, string> = {}): Promise<Streamed> {
  return new Promise((resolve) => {
    let sentBytes = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, "a");
    const req = http.request(url + route, { method: "POST", headers: { "content-type": "application/json", ...headers } });
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body, sentBytes }));
      res.on("error", () => resolve({ status: res.statusCode, body, sentBytes }));
      req.end();
    });
    req.on("error", (err) => {
      if (!answered) resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message, sentBytes });
    });
    const pump = () => {
      while (!answered && !req.destroyed && sentBytes < totalBytes) {
        sentBytes += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered && !req.destroyed) req.end();
    };
    pump();
  });
}

describe("the door", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("answers a license route itself and hands a page to Next, on the same port", async () => {
    const page = await fetch(`${app.url}/signin`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<html/i);
    expect(page.headers.get("keystead-answered-by")).toBeNull();
    const validate = await app.post("/api/v1/licenses/validate", { key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA" });
    expect(validate.status).toBe(200);
    expect(validate.body).toMatchObject({ valid: false, code: "NOT_FOUND" });
    expect(validate.headers.get("keystead-answered-by")).toBe("door");
    expect(validate.headers.get("keystead-signature")).toMatch(/^kid="/);
    expect(validate.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers every public license route and its other methods itself; the rest of /api goes to Next", async () => {
    const ownRoutes = [
      ["POST", "/api/v1/licenses/activate"],
      ["POST", "/api/v1/licenses/deactivate"],
      ["POST", "/api/v1/licenses/heartbeat"],
      ["POST", "/api/v1/licenses/validate?from=query"],
      ["GET", "/api/v1/jwks"],
      ["GET", "/.well-known/jwks.json"],
      ["GET", "/api/v1/licenses/validate"],
      ["DELETE", "/api/v1/jwks"],
    ];
    for (const [method, route] of ownRoutes) {
      const res = await fetch(app.url + route, { method, headers: { "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
      expect(res.headers.get("keystead-answered-by"), `${method} ${route}`).toBe("door");
      expect(res.status, `${method} ${route}`).toBeLessThan(500);
    }
    const wrongMethod = await app.get("/api/v1/licenses/validate");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(wrongMethod.body.error.code).toBe("METHOD_NOT_ALLOWED");
    const jwks = await app.get("/.well-known/jwks.json");
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=60");

    // Next's own: the rest of the API, and any path that is not exactly a license route's.
    for (const route of ["/api/health", "/api/v1/licenses/validate/", "/api/v1/licenses/nope"]) {
      const res = await fetch(app.url + route, { redirect: "manual" });
      expect(res.headers.get("keystead-answered-by"), route).toBeNull();
    }
  });

  it("boots once per process: instrumentation (migrations, worker) ran exactly once behind the door", async () => {
    expect(app.logs().match(/\[keystead\] worker started/g)).toHaveLength(1);
    expect(app.logs().match(/\[keystead\] ready on http:\/\/127\.0\.0\.1:\d+ \(production; Ed25519 by libsodium\)/g)).toHaveLength(1);
  });

  // 50 MB each, with no Content-Length: the reader must refuse at the limit while the body streams.
  const routes: Array<[string, string, Record<string, string>]> = [
    ["the Stripe webhook", "/api/stripe/webhook", { "stripe-signature": "t=1,v1=00" }],
    ["validate", "/api/v1/licenses/validate", {}],
    ["the management API", "/api/v1/admin/products", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }],
  ];
  it("gives the same answer to a body that came with its headers and to one that trickles in after them", async () => {
    const send = (route: string, parts: string[], gapMs: number) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const total = parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
        const req = http.request(app.url + route, { method: "POST", headers: { "content-type": "application/json", "content-length": total } });
        req.on("response", (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode!, body }));
        });
        req.on("error", reject);
        // Headers and body in one write: node:http has parsed the whole request before the route runs.
        if (gapMs === 0) return void req.end(parts.join(""));
        req.flushHeaders();
        void (async () => {
          for (const part of parts) {
            await new Promise((r) => setTimeout(r, gapMs));
            req.write(part);
          }
          req.end();
        })();
      });
    const bodies = ['{"key":"AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"}', '{"key": 42}', "{not json", ""];
    for (const body of bodies) {
      const whole = await send("/api/v1/licenses/validate", [body], 0);
      // The same bytes, a few at a time with pauses between them: read through the streaming reader.
      const pieces = body.match(/.{1,4}/gs) ?? [];
      const trickled = await send("/api/v1/licenses/validate", pieces, 15);
      expect([trickled.status, JSON.parse(trickled.body)], body).toEqual([whole.status, JSON.parse(whole.body)]);
    }
    const answers = await Promise.all(bodies.map((b) => send("/api/v1/licenses/validate", [b], 0)));
    expect(answers.map((a) => a.status)).toEqual([200, 400, 400, 400]);
  });

  for (const [name, route, headers] of routes) {
    it(`refuses a 50 MB chunked body to ${name} with 413 at the limit, memory flat`, async () => {
      // Warm the route up first, so loading its code is not counted as growth.
      await app.post(route, "{}", headers);
      const before = rssBytes(app.pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(app.pid))), 20);
      let result: Streamed;
      try {
        result = await postChunked(app.url, route, 50 * MB, headers);
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, rssBytes(app.pid));

      if (result.status !== undefined) {
        expect(result.status).toBe(413);
        expect(JSON.parse(result.body!).error.code).toBe("PAYLOAD_TOO_LARGE");
      } else {
        // The client was still writing when the server stopped reading and closed the connection (after its
        // 413, which the client had no chance to read): it was cut off long before the end of the body.
        expect(result.error).toMatch(/ECONNRESET|EPIPE/);
        expect(result.sentBytes).toBeLessThan(50 * MB);
      }
      // Far less than the 50 MB sent (the old buffering webhook grew the process by about three times that).
      expect(peak - before).toBeLessThan(30 * MB);
      // Alive and well afterwards, with nothing logged as a crash.
      expect((await app.get("/api/health")).status).toBe(200);
      expect(app.logs()).not.toMatch(/unhandled error|Internal Server Error|FATAL/i);
    });
  }
});

describe("shutdown", () => {
  it("on SIGTERM the door closes, the worker and the pool finish, and the process exits 0 without alarming output", async () => {
    const app = await startApp();
    // Work in flight on both sides: a request and the worker's polling.
    expect((await app.get("/api/health")).body).toMatchObject({ ok: true, worker: "ok" });
    await app.stop();
    expect(app.exit()).toEqual({ code: 0, signal: null });
    const logs = app.logs();
    const afterSignal = logs.slice(logs.indexOf("[keystead] SIGTERM: finishing requests and jobs, then exiting"));
    expect(afterSignal).toMatch(/^\[keystead\] SIGTERM/);
    expect(afterSignal).not.toMatch(/error|terminating connection|ECONNRESET|still busy/i);
  });
});
