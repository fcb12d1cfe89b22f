import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small stand-in for a Keystead server (or an impostor), for the SDK's unit tests: it signs tokens and
 * answers with its own Ed25519 key, following CONTRACT.md's text, and can be told to misbehave.
 */
export type Misbehaviour = "none" | "unsigned" | "wrong-key" | "wrong-nonce" | "stale-date" | "tampered-body";

export type FakeReply = { status: number; body: unknown };

export type FakeKeystead = {
  url: string;
  kid: string;
  jwks: { keys: Record<string, string>[] };
  /** The server's clock (ms); default the real one. */
  clock: { now: () => number };
  misbehave: Misbehaviour;
  /** Overrides the next answers of a route (e.g. a 403 REVOKED); null: the normal answer. */
  reply: Partial<Record<string, FakeReply | null>>;
  requests: { path: string; nonce: string | undefined; body: any }[];
  token: (claims: Record<string, unknown>) => string;
  close: () => Promise<void>;
};

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

export async function startFakeKeystead(opts: { ttlSeconds?: number; entitlements?: string[]; product?: string } = {}): Promise<FakeKeystead> {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const other = crypto.generateKeyPairSync("ed25519");
  const kid = `fake-${crypto.randomBytes(3).toString("hex")}`;
  const jwks = { keys: [{ ...(publicKey.export({ format: "jwk" }) as Record<string, string>), kid, alg: "EdDSA", use: "sig" }] };
  const license = {
    id: "lic-1",
    status: "active",
    product: opts.product ?? "app",
    plan: "pro",
    expiresAt: null,
    entitlements: opts.entitlements ?? ["export"],
    maxActivations: 2,
    activations: 1,
  };

  const token = (claims: Record<string, unknown>) => {
    const input = `${b64({ alg: "EdDSA", typ: "JWT", kid })}.${b64(claims)}`;
    return `${input}.${crypto.sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
  };
  const freshToken = (fingerprint: string) => {
    const iat = Math.floor(fake.clock.now() / 1000);
    return token({
      iss: fake.url,
      sub: license.id,
      iat,
      exp: iat + (opts.ttlSeconds ?? 86_400),
      jti: crypto.randomUUID(),
      fingerprint,
      product: license.product,
      plan: license.plan,
      entitlements: license.entitlements,
      status: "active",
      licenseExpiresAt: null,
      maxActivations: license.maxActivations,
    });
  };
  const activation = (fingerprint: string) => ({ id: "act-1", fingerprint, name: null, platform: null, createdAt: new Date().toISOString(), lastSeenAt: null });

  const normal = (path: string, body: any): FakeReply => {
    if (path.endsWith("/deactivate")) return { status: 200, body: { deactivated: true } };
    if (path.endsWith("/validate")) return { status: 200, body: { valid: true, code: "VALID", license, activation: null } };
    return {
      status: path.endsWith("/activate") ? 201 : 200,
      body: { activation: activation(body.fingerprint), license, token: freshToken(body.fingerprint) },
    };
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url!, "http://x").pathname;
    if (req.method === "GET" && path === "/api/v1/jwks") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
    const nonce = req.headers["keystead-nonce"] as string | undefined;
    fake.requests.push({ path, nonce, body });
    const reply = fake.reply[path.split("/").pop()!] ?? normal(path, body);
    const bytes = Buffer.from(JSON.stringify(reply.body));
    const m = fake.misbehave;
    const date = new Date(fake.clock.now() - (m === "stale-date" ? 6 * 60_000 : 0)).toUTCString();
    const lines = [
      "keystead-response-v1",
      `${req.method} ${path}`,
      m === "wrong-nonce" ? "another-nonce" : (nonce ?? ""),
      date,
      crypto.createHash("sha256").update(bytes).digest("base64url"),
    ].join("\n");
    const sig = crypto.sign(null, Buffer.from(lines), m === "wrong-key" ? other.privateKey : privateKey).toString("base64url");
    const headers: Record<string, string> = { "content-type": "application/json", date };
    if (m !== "unsigned") headers["keystead-signature"] = `kid="${kid}", alg="EdDSA", sig="${sig}"`;
    const sent = m === "tampered-body" ? Buffer.from(JSON.stringify({ ...(reply.body as object), tampered: true })) : bytes;
    res.writeHead(reply.status, headers).end(sent);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fake: FakeKeystead = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    kid,
    jwks,
    clock: { now: () => Date.now() },
    misbehave: "none",
    reply: {},
    requests: [],
    token,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return fake;
}
