import crypto from "node:crypto";
import { createLocalJWKSet, importJWK, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { makeLicense, makePlan } from "./helpers/factories";

// Independent verifiers, part three: `jose`, the JOSE library most Node and browser code would reach for,
// reading only the JWKS. Tokens (online ones and activation files) go through jwtVerify; signed answers are
// not JWS, so jose imports the JWKS key and WebCrypto checks the Ed25519 signature over the contract's lines.

async function answerVerifies(jwks: JSONWebKeySet, opts: { path: string; nonce: string; headers: Headers; body: Uint8Array }) {
  const m = /^kid="([^"]+)", alg="EdDSA", sig="([A-Za-z0-9_-]+)"$/.exec(opts.headers.get("keystead-signature") ?? "");
  const jwk = m && jwks.keys.find((k) => k.kid === m[1]);
  if (!m || !jwk) return false;
  const key = (await importJWK(jwk, "EdDSA")) as CryptoKey;
  const lines = [
    "keystead-response-v1",
    `POST ${opts.path}`,
    opts.nonce,
    opts.headers.get("date") ?? "",
    crypto.createHash("sha256").update(opts.body).digest("base64url"),
  ].join("\n");
  return crypto.subtle.verify("Ed25519", key, Buffer.from(m[2]!, "base64url"), new TextEncoder().encode(lines));
}

describe("independent verifiers: jose", () => {
  let app: TestApp;
  let jwks: JSONWebKeySet;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    jwks = (await app.get("/api/v1/jwks")).body;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("verifies a real offline token and a real signed answer, and refuses tampered ones", async () => {
    const { key, license } = await makeLicense(app.database.db);
    const nonce = crypto.randomBytes(16).toString("base64url");
    const path = "/api/v1/licenses/activate";
    const res = await fetch(app.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", "keystead-nonce": nonce },
      body: JSON.stringify({ key, fingerprint: "jose-machine" }),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(201);
    const { token } = JSON.parse(Buffer.from(body).toString());

    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: app.url, algorithms: ["EdDSA"] });
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", typ: "JWT", kid: jwks.keys[0]!.kid });
    expect(payload).toMatchObject({ sub: license.id, fingerprint: "jose-machine" });

    const [h, , s] = token.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, fingerprint: "elsewhere" })).toString("base64url")}.${s}`;
    await expect(jwtVerify(forged, createLocalJWKSet(jwks))).rejects.toMatchObject({ code: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });

    expect(await answerVerifies(jwks, { path, nonce, headers: res.headers, body })).toBe(true);
    expect(await answerVerifies(jwks, { path, nonce: "another", headers: res.headers, body })).toBe(false);
    expect(await answerVerifies(jwks, { path, nonce, headers: res.headers, body: new Uint8Array([...body, 32]) })).toBe(false);
  });

  it("verifies an activation file's token, with its longer lifetime", async () => {
    const plan = await makePlan(app.database.db, { seats: 1, airGappedTtlDays: 90 });
    const { license } = await makeLicense(app.database.db, { planId: plan.id });
    const made = await app.post(`/api/v1/admin/licenses/${license.id}/activation-file`, { fingerprint: "vault-pc" }, {
      authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
    });
    expect(made.status).toBe(201);
    const { payload } = await jwtVerify(JSON.parse(made.body.file).token, createLocalJWKSet(jwks), { issuer: app.url, algorithms: ["EdDSA"] });
    expect(payload).toMatchObject({ sub: license.id, fingerprint: "vault-pc" });
    expect(payload.exp! - payload.iat!).toBe(90 * 86_400);
    // Past its exp, jose refuses it like any expired JWT.
    await expect(
      jwtVerify(JSON.parse(made.body.file).token, createLocalJWKSet(jwks), { currentDate: new Date((payload.exp! + 1) * 1000) }),
    ).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
  });
});
