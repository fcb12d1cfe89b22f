import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Keystead, memoryStorage } from "../sdk/src/index";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";

// ks.latestRelease() against the real built app: the newest release and a link that downloads it, and an
// answer altered on the way (a man in the middle swapping the link) refused like any other unsigned answer.
describe("ks.latestRelease()", () => {
  let app: TestApp;
  let dataDir: string;
  let tamperer: http.Server;
  let tampererUrl: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-sdk-releases-"));
    app = await startApp({ env: { DATA_DIR: dataDir, RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    // Forwards to the app, but rewrites the link in a latest answer (keeping the real signature headers).
    tamperer = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(app.url + req.url, { method: req.method, headers: req.headers as Record<string, string>, body: chunks.length ? Buffer.concat(chunks) : undefined });
      let body = Buffer.from(await upstream.arrayBuffer());
      if (req.url === "/api/v1/releases/latest") body = Buffer.from(body.toString().replace(/"url":"[^"]+"/, '"url":"https://evil.example/payload.exe"'));
      const headers: Record<string, string> = {};
      upstream.headers.forEach((v, k) => k !== "content-length" && k !== "content-encoding" && (headers[k] = v));
      res.writeHead(upstream.status, headers).end(body);
    });
    await new Promise<void>((r) => tamperer.listen(0, "127.0.0.1", r));
    tampererUrl = `http://127.0.0.1:${(tamperer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => tamperer?.close(r));
    await app?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers the newest allowed release with a working link, verified like every answer", async () => {
    const db = app.database.db;
    const product = await makeProduct(db);
    const plan = await makePlan(db, { productId: product.id, seats: 1 });
    const { key } = await makeLicense(db, { planId: plan.id });
    const files: Record<string, Buffer> = {};
    for (const [version, channel] of [["1.2.0", "stable"], ["1.10.0", "stable"], ["2.0.0-rc.1", "beta"]] as const) {
      files[version] = crypto.randomBytes(50_000);
      const form = new FormData();
      form.append("product", product.slug);
      form.append("version", version);
      form.append("channel", channel);
      form.append("platform", "linux-x64");
      form.append("file", new Blob([new Uint8Array(files[version])]), `app-${version}.tar.gz`);
      const res = await fetch(`${app.url}/api/v1/admin/releases`, { method: "POST", headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: form });
      expect(res.status).toBe(201);
    }
    const jwks = (await app.get("/api/v1/jwks")).body;
    const storage = memoryStorage();

    const ks = new Keystead({ url: app.url, fingerprint: "machine-1", product: product.slug, storage, publicKeys: jwks.keys });
    expect(await ks.latestRelease()).toMatchObject({ ok: false, code: "NO_TOKEN" });
    expect((await ks.activate(key)).ok).toBe(true);

    const stable = await ks.latestRelease({ platform: "linux-x64" });
    expect(stable).toMatchObject({ ok: true, code: "VALID", release: { version: "1.10.0", channel: "stable", platform: "linux-x64" } });
    if (!stable.ok) throw new Error("unreachable");
    const downloaded = Buffer.from(await (await fetch(stable.url)).arrayBuffer());
    expect(downloaded.equals(files["1.10.0"]!)).toBe(true);
    expect(crypto.createHash("sha256").update(downloaded).digest("hex")).toBe(stable.release.sha256);
    expect(Date.parse(stable.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);

    expect(await ks.latestRelease({ channel: "beta", platform: "linux-x64" })).toMatchObject({ ok: true, release: { version: "2.0.0-rc.1" } });
    expect(await ks.latestRelease({ platform: "windows-x64" })).toMatchObject({ ok: false, code: "NOT_FOUND", url: null });

    // The same machine through a tampering middlebox: the swapped link is never handed to the updater.
    const tampered = new Keystead({ url: tampererUrl, fingerprint: "machine-1", product: product.slug, storage, publicKeys: jwks.keys });
    expect(await tampered.latestRelease({ platform: "linux-x64" })).toMatchObject({ ok: false, code: "SIGNATURE_INVALID", url: null });
  });
});
