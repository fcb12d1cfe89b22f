import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense } from "./helpers/factories";

/**
 * The contract's promise for the public routes: no input, however malformed, produces a 5xx. Every case
 * below is sent to every route and must get a 4xx with `{ error: { code, message } }` (400 BAD_REQUEST with
 * details when validation refused it).
 */

type Send = { body?: BodyInit | null; headers?: Record<string, string>; stream?: boolean };
type Case = { name: string; send: (key: string) => Send; status?: number; code?: string; routes?: Route[] };
type Route = "validate" | "activate" | "deactivate" | "heartbeat";

const ROUTES: Route[] = ["validate", "activate", "deactivate", "heartbeat"];
const JSON_TYPE = { "content-type": "application/json" };
const json = (value: unknown): Send => ({ body: JSON.stringify(value), headers: JSON_TYPE });
const raw = (text: string): Send => ({ body: text, headers: JSON_TYPE });

const nested = (depth: number) => {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
};

const CASES: Case[] = [
  { name: "no body, no content type", send: () => ({}) },
  { name: "no body, JSON content type", send: () => ({ headers: JSON_TYPE }) },
  { name: "empty body", send: () => raw("") },
  { name: "whitespace body", send: () => raw("  \n ") },
  { name: "invalid JSON", send: () => raw("{") },
  { name: "trailing garbage", send: (key) => raw(`{"key":"${key}","fingerprint":"fp"} x`) },
  { name: "JSON array", send: (key) => json([{ key, fingerprint: "fp" }]) },
  { name: "JSON string", send: () => json("hello") },
  { name: "JSON null", send: () => raw("null") },
  { name: "JSON number", send: () => raw("42") },
  { name: "JSON true", send: () => raw("true") },
  { name: "empty object", send: () => json({}) },
  { name: "missing key", send: () => json({ fingerprint: "fp" }) },
  { name: "missing fingerprint", send: (key) => json({ key }), routes: ["activate", "deactivate", "heartbeat"] },
  { name: "key is a number", send: () => json({ key: 12345, fingerprint: "fp" }) },
  { name: "key is null", send: () => json({ key: null, fingerprint: "fp" }) },
  { name: "key is an object", send: () => json({ key: { $ne: "" }, fingerprint: "fp" }) },
  { name: "key is an array", send: (key) => json({ key: [key], fingerprint: "fp" }) },
  { name: "key is empty", send: () => json({ key: "", fingerprint: "fp" }) },
  { name: "fingerprint is a number", send: (key) => json({ key, fingerprint: 7 }) },
  { name: "fingerprint is empty", send: (key) => json({ key, fingerprint: "" }) },
  { name: "fingerprint is an object", send: (key) => json({ key, fingerprint: { a: 1 } }) },
  { name: "huge key", send: () => json({ key: "A".repeat(10_000), fingerprint: "fp" }) },
  { name: "huge fingerprint", send: (key) => json({ key, fingerprint: "f".repeat(257) }) },
  { name: "key with NUL", send: (key) => json({ key: `${key}\u0000`, fingerprint: "fp" }) },
  { name: "fingerprint with NUL", send: (key) => json({ key, fingerprint: "fp\u0000x" }) },
  { name: "fingerprint with a lone surrogate", send: (key) => raw(`{"key":"${key}","fingerprint":"fp\\ud800"}`) },
  { name: "invalid UTF-8 bytes", send: (key) => ({ body: Buffer.concat([Buffer.from(`{"key":"${key}","fingerprint":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`"}`)]), headers: JSON_TYPE }) },
  { name: "body over 64 KB", send: (key) => json({ key, fingerprint: "fp", pad: "x".repeat(70_000) }), status: 413, code: "PAYLOAD_TOO_LARGE" },
  { name: "body over 64 KB, chunked without length", send: (key) => ({ ...json({ key, fingerprint: "fp", pad: "x".repeat(200_000) }), stream: true }), status: 413, code: "PAYLOAD_TOO_LARGE" },
  { name: "deeply nested JSON body", send: () => raw("[".repeat(20_000) + "]".repeat(20_000)) },
  { name: "text/plain content type", send: (key) => ({ body: JSON.stringify({ key, fingerprint: "fp" }), headers: { "content-type": "text/plain" } }) },
  { name: "form content type", send: (key) => ({ body: `key=${key}&fingerprint=fp`, headers: { "content-type": "application/x-www-form-urlencoded" } }) },
  { name: "multipart content type", send: () => ({ body: "--x\r\n\r\n--x--", headers: { "content-type": "multipart/form-data; boundary=x" } }) },
  { name: "__proto__ in place of fields", send: (key) => raw(`{"__proto__":{"key":"${key}","fingerprint":"fp"}}`) },
  { name: "product is a number", send: (key) => json({ key, fingerprint: "fp", product: 1 }), routes: ["validate", "activate", "heartbeat"] },
  { name: "product too long", send: (key) => json({ key, fingerprint: "fp", product: "p".repeat(500) }), routes: ["validate", "activate", "heartbeat"] },
  { name: "entitlements not an array", send: (key) => json({ key, entitlements: "export" }), routes: ["validate"] },
  { name: "entitlements with a number", send: (key) => json({ key, entitlements: ["a", 1] }), routes: ["validate"] },
  { name: "too many entitlements", send: (key) => json({ key, entitlements: Array.from({ length: 101 }, (_, i) => `e${i}`) }), routes: ["validate"] },
  { name: "entitlements with NUL", send: (key) => json({ key, entitlements: ["a\u0000"] }), routes: ["validate"] },
  { name: "name is a number", send: (key) => json({ key, fingerprint: "fp", name: 5 }), routes: ["activate"] },
  { name: "name too long", send: (key) => json({ key, fingerprint: "fp", name: "n".repeat(201) }), routes: ["activate"] },
  { name: "platform is an array", send: (key) => json({ key, fingerprint: "fp", platform: ["linux"] }), routes: ["activate"] },
  { name: "metadata is an array", send: (key) => json({ key, fingerprint: "fp", metadata: [1, 2] }), routes: ["activate"] },
  { name: "metadata is a string", send: (key) => json({ key, fingerprint: "fp", metadata: "{}" }), routes: ["activate"] },
  { name: "metadata over 4 KB", send: (key) => json({ key, fingerprint: "fp", metadata: { blob: "b".repeat(5000) } }), routes: ["activate"] },
  { name: "metadata nested 50 deep", send: (key) => json({ key, fingerprint: "fp", metadata: nested(50) }), routes: ["activate"] },
  { name: "metadata nested 5,000 deep", send: (key) => raw(`{"key":"${key}","fingerprint":"fp","metadata":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`), routes: ["activate"] },
  { name: "metadata with a NUL key", send: (key) => json({ key, fingerprint: "fp", metadata: { "a\u0000": 1 } }), routes: ["activate"] },
  { name: "metadata with a NUL deep inside", send: (key) => json({ key, fingerprint: "fp", metadata: { a: [{ b: "x\u0000" }] } }), routes: ["activate"] },
  { name: "metadata with a lone surrogate", send: (key) => raw(`{"key":"${key}","fingerprint":"fp","metadata":{"a":"\\udc00"}}`), routes: ["activate"] },
];

describe("malformed input on the public routes", () => {
  let app: TestApp;
  let key: string;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    // A real key, so a case that slipped past validation would reach the database instead of stopping at NOT_FOUND.
    key = (await makeLicense(app.database.db, { maxActivations: 1000 })).key;
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function send(route: Route, s: Send) {
    let body = s.body;
    if (s.stream && typeof body === "string") {
      const bytes = new TextEncoder().encode(body);
      body = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 16_384) controller.enqueue(bytes.subarray(i, i + 16_384));
          controller.close();
        },
      });
    }
    let res: Response;
    try {
      res = await fetch(`${app.url}/api/v1/licenses/${route}`, {
        method: "POST",
        headers: s.headers,
        body,
        ...(s.stream ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (err) {
      throw new Error(`${route}: the request failed outright: ${String(err)} ${String((err as { cause?: unknown }).cause)}`);
    }
    const text = await res.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  }

  for (const c of CASES) {
    it(c.name, async () => {
      for (const route of c.routes ?? ROUTES) {
        const res = await send(route, c.send(key));
        const where = `${route}: ${JSON.stringify(res.body).slice(0, 300)}`;
        expect(res.status, where).toBe(c.status ?? 400);
        expect(res.body?.error?.code, where).toBe(c.code ?? "BAD_REQUEST");
        expect(res.body.error.message, where).toEqual(expect.any(String));
        if ((c.status ?? 400) === 400 && c.code === undefined && res.body.error.details !== undefined) {
          expect(Array.isArray(res.body.error.details), where).toBe(true);
        }
      }
    });
  }

  it("a key that can never exist is not malformed: validate says NOT_FOUND, the others 404", async () => {
    for (const odd of ["<script>alert(1)</script>", "' OR 1=1; --", `${key}🔑`, `${key}\u0007`, "hello"]) {
      const validate = await send("validate", json({ key: odd, fingerprint: "fp" }));
      expect(validate.status, odd).toBe(200);
      expect(validate.body, odd).toEqual({ valid: false, code: "NOT_FOUND", license: null, activation: null });
      for (const route of ["activate", "deactivate", "heartbeat"] as const) {
        const res = await send(route, json({ key: odd, fingerprint: "fp" }));
        expect(res.status, `${route} ${odd}`).toBe(404);
        expect(res.body.error.code, `${route} ${odd}`).toBe("NOT_FOUND");
      }
    }
  });

  it("validation errors carry details naming the field", async () => {
    const res = await send("activate", json({ key, fingerprint: 7 }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: "fingerprint", message: expect.any(String) })]);
  });

  it("unknown keys are ignored, and odd but valid input is accepted", async () => {
    const res = await send(
      "activate",
      json({
        key: ` ${key.toLowerCase()} `,
        fingerprint: "f".repeat(256),
        name: "Zoë’s 💻",
        platform: null,
        metadata: { nested: { list: [1, "two", null, { deep: true }] }, émoji: "🔑" },
        futureField: { anything: 1 },
      }),
    );
    expect(res.status).toBe(201);
    expect(res.body.activation).toMatchObject({ fingerprint: "f".repeat(256), name: "Zoë’s 💻", platform: null });
    const validate = await send("validate", json({ key, fingerprint: "f".repeat(256), product: "p", entitlements: [], extra: [1] }));
    expect(validate.status).toBe(200);
    expect(validate.body.code).toBe("PRODUCT_MISMATCH");
  });

  it("no 5xx and nothing unhandled in the log", () => {
    expect(app.logs()).not.toContain("unhandled error");
  });
});
