import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense, makePlan } from "./helpers/factories";

// Verifies with nothing but node:crypto, following the contract's text (not our server code), so a mistake
// shared by signer and verifier cannot hide.
function verifyAnswer(
  jwks: { keys: { kid: string; x: string }[] },
  opts: { path: string; nonce: string; headers: Headers; body: Buffer },
) {
  const header = opts.headers.get("keystead-signature");
  const date = opts.headers.get("date");
  if (!header || !date) return false;
  const m = /^kid="([^"]+)", alg="EdDSA", sig="([A-Za-z0-9_-]+)"$/.exec(header);
  if (!m) return false;
  const jwk = jwks.keys.find((k) => k.kid === m[1]);
  if (!jwk) return false;
  const key = crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
  const lines = [
    "keystead-response-v1",
    `POST ${opts.path}`,
    opts.nonce,
    date,
    crypto.createHash("sha256").update(opts.body).digest("base64url"),
  ];
  return crypto.verify(null, Buffer.from(lines.join("\n"), "utf8"), key, Buffer.from(m[2]!, "base64url"));
}

describe("signed answers of the public license routes", () => {
  let app: TestApp;
  let jwks: { keys: { kid: string; x: string }[] };
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "6" } });
    jwks = (await app.get("/api/v1/jwks")).body;
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function call(path: string, body: string, nonce?: string) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (nonce !== undefined) headers["keystead-nonce"] = nonce;
    const res = await fetch(app.url + path, { method: "POST", headers, body });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  it("every route signs its successes and its errors over the five lines, nonce included", async () => {
    const plan = await makePlan(app.database.db, { seats: 1 });
    const { key } = await makeLicense(app.database.db, { planId: plan.id });
    const { key: other } = await makeLicense(app.database.db, { planId: plan.id });
    const cases: [string, unknown, number][] = [
      ["/api/v1/licenses/validate", { key }, 200],
      ["/api/v1/licenses/activate", { key, fingerprint: "m-1" }, 201],
      ["/api/v1/licenses/activate", { key, fingerprint: "m-2" }, 409],
      ["/api/v1/licenses/heartbeat", { key, fingerprint: "m-1" }, 200],
      ["/api/v1/licenses/heartbeat", { key: other, fingerprint: "m-1" }, 404],
      ["/api/v1/licenses/deactivate", { key: other, fingerprint: "m-1" }, 404],
      ["/api/v1/licenses/deactivate", { key, fingerprint: "m-1" }, 200],
      ["/api/v1/licenses/validate", "{not json", 400],
      ["/api/v1/licenses/activate", JSON.stringify({ key: "x".repeat(70_000) }), 413],
    ];
    for (const [path, body, status] of cases) {
      const nonce = crypto.randomBytes(16).toString("base64url");
      const res = await call(path, typeof body === "string" ? body : JSON.stringify(body), nonce);
      expect(res.status, path).toBe(status);
      expect(Math.abs(Date.parse(res.headers.get("date")!) - Date.now())).toBeLessThan(60_000);
      expect(verifyAnswer(jwks, { path, nonce, headers: res.headers, body: res.body }), `${path} ${status}`).toBe(true);
      // The same answer does not verify for another nonce or another route: it cannot be replayed.
      expect(verifyAnswer(jwks, { path, nonce: "other", headers: res.headers, body: res.body })).toBe(false);
      const elsewhere = path.endsWith("validate") ? "/api/v1/licenses/heartbeat" : "/api/v1/licenses/validate";
      expect(verifyAnswer(jwks, { path: elsewhere, nonce, headers: res.headers, body: res.body })).toBe(false);
    }
  });

  it("a tampered body fails verification", async () => {
    const { key } = await makeLicense(app.database.db);
    const res = await call("/api/v1/licenses/validate", JSON.stringify({ key }), "n-1");
    const body = JSON.parse(res.body.toString("utf8"));
    expect(body.valid).toBe(true);
    expect(verifyAnswer(jwks, { path: "/api/v1/licenses/validate", nonce: "n-1", headers: res.headers, body: res.body })).toBe(true);
    const forged = Buffer.from(JSON.stringify({ ...body, license: { ...body.license, entitlements: ["everything"] } }));
    expect(verifyAnswer(jwks, { path: "/api/v1/licenses/validate", nonce: "n-1", headers: res.headers, body: forged })).toBe(false);
  });

  it("without a nonce the nonce line is empty; a nonce over 128 characters is a signed 400", async () => {
    const { key } = await makeLicense(app.database.db);
    const bare = await call("/api/v1/licenses/validate", JSON.stringify({ key }));
    expect(verifyAnswer(jwks, { path: "/api/v1/licenses/validate", nonce: "", headers: bare.headers, body: bare.body })).toBe(true);

    const at128 = await call("/api/v1/licenses/validate", JSON.stringify({ key }), "a".repeat(128));
    expect(at128.status).toBe(200);
    const long = "a".repeat(129);
    const tooLong = await call("/api/v1/licenses/validate", JSON.stringify({ key }), long);
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.body.toString()).error.code).toBe("BAD_REQUEST");
    expect(verifyAnswer(jwks, { path: "/api/v1/licenses/validate", nonce: long, headers: tooLong.headers, body: tooLong.body })).toBe(true);
  });

  it("429 RATE_LIMITED is signed too", async () => {
    const { key } = await makeLicense(app.database.db);
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 7; i++) last = await call("/api/v1/licenses/validate", JSON.stringify({ key }), `n-${i}`);
    expect(last!.status).toBe(429);
    expect(last!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(verifyAnswer(jwks, { path: "/api/v1/licenses/validate", nonce: "n-6", headers: last!.headers, body: last!.body })).toBe(true);
  });
});
