import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setClock } from "@/server/domain/clock";
import { listCustomerDownloads, listLicenseDownloads } from "@/server/domain/releases/access";
import { signDownloadLink } from "@/server/domain/releases/links";
import { resetEnvCache } from "@/server/env";
import { startApp, TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, type TestApp } from "./helpers/app";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const MAX_BYTES = 1024 * 1024;

// Verifies a signed answer with node:crypto alone, from the contract's text (not our server code).
function verifyAnswer(jwks: { keys: { kid: string; x: string }[] }, opts: { path: string; nonce: string; headers: Headers; body: Buffer }) {
  const m = /^kid="([^"]+)", alg="EdDSA", sig="([A-Za-z0-9_-]+)"$/.exec(opts.headers.get("keystead-signature") ?? "");
  const date = opts.headers.get("date");
  const jwk = m && jwks.keys.find((k) => k.kid === m[1]);
  if (!m || !date || !jwk) return false;
  const key = crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
  const lines = ["keystead-response-v1", `POST ${opts.path}`, opts.nonce, date, crypto.createHash("sha256").update(opts.body).digest("base64url")];
  return crypto.verify(null, Buffer.from(lines.join("\n"), "utf8"), key, Buffer.from(m[2]!, "base64url"));
}

const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

/** Every file under `dir`, recursively (the upload's temporary files included). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe("releases and downloads", () => {
  let app: TestApp;
  let dataDir: string;
  let jwks: { keys: { kid: string; x: string }[] };
  let product: { id: string; slug: string };
  let other: { id: string; slug: string };
  const files = new Map<string, Buffer>();
  const ids = new Map<string, string>();
  let pro: { key: string; id: string; customerId: string };
  let basic: { key: string; id: string; customerId: string };
  let foreign: { key: string; id: string; customerId: string };

  async function upload(fields: Record<string, string>, file?: { name: string; bytes: Buffer }) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (file) form.append("file", new Blob([new Uint8Array(file.bytes)]), file.name);
    const res = await fetch(`${app.url}/api/v1/admin/releases`, { method: "POST", headers: AUTH, body: form });
    return { status: res.status, body: (await res.json()) as any };
  }

  async function latest(body: Record<string, unknown>, nonce = crypto.randomBytes(8).toString("hex")) {
    const res = await fetch(`${app.url}/api/v1/releases/latest`, {
      method: "POST",
      headers: { "content-type": "application/json", "keystead-nonce": nonce },
      body: JSON.stringify(body),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body: JSON.parse(raw.toString()) as any, raw, headers: res.headers, nonce };
  }

  /** A link signed in this process under the app's own secret (so a moved clock or a forged grant can be tried). */
  function linkFor(releaseId: string, licenseId: string, ttlSeconds = 600) {
    const link = signDownloadLink(releaseId, licenseId, ttlSeconds);
    return link.url.replace(/^https?:\/\/[^/]+/, app.url);
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-releases-"));
    app = await startApp({ env: { DATA_DIR: dataDir, RELEASE_MAX_BYTES: String(MAX_BYTES), RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    // This process signs links too (linkFor): same secret and base URL as the app.
    process.env.AUTH_SECRET = TEST_AUTH_SECRET;
    process.env.APP_URL = app.url;
    resetEnvCache();
    jwks = (await app.get("/api/v1/jwks")).body;

    const db = app.database.db;
    product = await makeProduct(db);
    other = await makeProduct(db);
    const proPlan = await makePlan(db, { productId: product.id, entitlements: ["pro"], seats: 2 });
    const basicPlan = await makePlan(db, { productId: product.id, entitlements: [], seats: 2 });
    const otherPlan = await makePlan(db, { productId: other.id, entitlements: ["pro"], seats: 2 });
    const issue = async (planId: string) => {
      const customer = await makeCustomer(db);
      const { key, license } = await makeLicense(db, { planId, customerId: customer.id });
      const act = await app.post("/api/v1/licenses/activate", { key, fingerprint: "machine-1" });
      expect(act.status).toBe(201);
      return { key, id: license.id, customerId: customer.id };
    };
    pro = await issue(proPlan.id);
    basic = await issue(basicPlan.id);
    foreign = await issue(otherPlan.id);

    const releases: [name: string, fields: Record<string, string>, size: number | null][] = [
      ["1.0.0", { version: "1.0.0", channel: "stable" }, 200_000],
      ["1.9.0", { version: "1.9.0", channel: "stable", notes: "Faster export." }, 300_001],
      ["1.10.0-win", { version: "1.10.0", channel: "stable", platform: "windows-x64" }, 1000],
      ["1.11.0-pro", { version: "1.11.0", channel: "stable", entitlement: "pro" }, 1000],
      ["2.0.0-beta.1", { version: "2.0.0-beta.1", channel: "beta" }, 1000],
      ["1.20.0-linux-url", { version: "1.20.0", channel: "stable", platform: "linux", url: "https://downloads.example.com/app-1.20.0.tar.gz" }, null],
    ];
    for (const [name, fields, size] of releases) {
      const bytes = size === null ? undefined : crypto.randomBytes(size);
      const res = await upload({ product: product.slug, ...fields }, bytes && { name: `app-${name}.zip`, bytes });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.set(name, res.body.release.id);
      if (bytes) files.set(name, bytes);
    }
  });

  afterAll(async () => {
    setClock(undefined);
    await app?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("an upload answers 201 with the file's sha256 and size, and keeps the file under DATA_DIR", async () => {
    const res = await app.get(`/api/v1/admin/releases?product=${product.slug}`, AUTH);
    expect(res.status).toBe(200);
    const one = res.body.data.find((r: any) => r.id === ids.get("1.9.0"));
    expect(one).toMatchObject({ product: product.slug, version: "1.9.0", channel: "stable", platform: null, notes: "Faster export." });
    expect(one.sha256).toBe(sha256(files.get("1.9.0")!));
    expect(one.size).toBe(300_001);
    expect(fs.readFileSync(path.join(dataDir, "releases", one.id)).equals(files.get("1.9.0")!)).toBe(true);
    // Newest version first, in semver order (1.20.0 > 1.11.0 > 1.10.0 > 1.9.0 > 1.0.0; 2.0.0-beta.1 on top).
    expect(res.body.data.map((r: any) => r.version)).toEqual(["2.0.0-beta.1", "1.20.0", "1.11.0", "1.10.0", "1.9.0", "1.0.0"]);
    expect(res.body.data.find((r: any) => r.version === "1.20.0")).toMatchObject({ sha256: null, size: null, externalUrl: "https://downloads.example.com/app-1.20.0.tar.gz" });
    // Another product's list has none of them; an unknown product is a 404, no token a 401.
    expect((await app.get(`/api/v1/admin/releases?product=${other.slug}`, AUTH)).body.data).toEqual([]);
    expect((await app.get("/api/v1/admin/releases?product=no-such-product", AUTH)).status).toBe(404);
    expect((await app.get("/api/v1/admin/releases")).status).toBe(401);
  });

  it("refuses bad uploads with a code, never a 5xx", async () => {
    const bytes = { name: "x.zip", bytes: Buffer.from("x") };
    expect((await upload({ product: product.slug, version: "1.9.0", channel: "stable" }, bytes)).status).toBe(409);
    expect((await upload({ product: product.slug, version: "not-a-version", channel: "stable" }, bytes)).body.error.code).toBe("BAD_REQUEST");
    expect((await upload({ product: product.slug, version: "3.0.0", channel: "nightly" }, bytes)).body.error.code).toBe("BAD_REQUEST");
    expect((await upload({ product: product.slug, version: "3.0.0", channel: "stable" })).body.error.code).toBe("BAD_REQUEST");
    expect((await upload({ product: "no-such-product", version: "3.0.0", channel: "stable" }, bytes)).status).toBe(404);
    const json = await app.post("/api/v1/admin/releases", { product: product.slug }, AUTH);
    expect(json.status).toBe(415);
    const anonymous = await fetch(`${app.url}/api/v1/admin/releases`, { method: "POST", body: new FormData() });
    expect(anonymous.status).toBe(401);
    // None of the refused uploads left a file behind: one per uploaded file release, nothing in .incoming.
    expect(filesUnder(path.join(dataDir, "releases")).length).toBe(files.size);
  });

  it("an upload over RELEASE_MAX_BYTES is refused with 413 and leaves nothing on disk", async () => {
    const before = filesUnder(path.join(dataDir, "releases")).sort();
    const res = await upload({ product: product.slug, version: "9.0.0", channel: "stable" }, { name: "big.zip", bytes: crypto.randomBytes(MAX_BYTES + 300_000) });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(filesUnder(path.join(dataDir, "releases")).sort()).toEqual(before);
    const list = await app.get(`/api/v1/admin/releases?product=${product.slug}`, AUTH);
    expect(list.body.data.map((r: any) => r.version)).not.toContain("9.0.0");
    // Exactly at the limit is fine.
    const atLimit = await upload({ product: product.slug, version: "0.0.1", channel: "stable", platform: "limit-test" }, { name: "edge.zip", bytes: crypto.randomBytes(MAX_BYTES) });
    expect(atLimit.status).toBe(201);
    expect(atLimit.body.release.size).toBe(MAX_BYTES);
  });

  it("latest picks by semver, channel, platform and entitlement, and its answer is signed", async () => {
    const a = await latest({ key: pro.key, fingerprint: "machine-1" });
    expect(a.status).toBe(200);
    expect(a.body.release).toMatchObject({ id: ids.get("1.11.0-pro"), version: "1.11.0", channel: "stable" });
    expect(a.body.release.externalUrl).toBeUndefined();
    expect(verifyAnswer(jwks, { path: "/api/v1/releases/latest", nonce: a.nonce, headers: a.headers, body: a.raw })).toBe(true);
    expect(a.headers.get("keystead-answered-by")).toBe("door");
    // Without the "pro" entitlement: 1.9.0 (semver: 1.9.0 > 1.0.0; 1.10.0 is for Windows only).
    expect((await latest({ key: basic.key, fingerprint: "machine-1" })).body.release.version).toBe("1.9.0");
    expect((await latest({ key: basic.key, fingerprint: "machine-1", platform: "windows-x64" })).body.release.version).toBe("1.10.0");
    expect((await latest({ key: basic.key, fingerprint: "machine-1", platform: "Windows-X64" })).body.release.version).toBe("1.10.0");
    expect((await latest({ key: basic.key, fingerprint: "machine-1", channel: "beta" })).body.release.version).toBe("2.0.0-beta.1");
    expect((await latest({ key: pro.key, fingerprint: "machine-1", channel: "beta" })).body.release.version).toBe("2.0.0-beta.1");
    expect((await latest({ key: basic.key, fingerprint: "machine-1", platform: "linux" })).body.release.version).toBe("1.20.0");
    // Another product's license: none of these releases; a machine not activated: 404 NOT_ACTIVATED; a wrong key: NOT_FOUND.
    const none = await latest({ key: foreign.key, fingerprint: "machine-1" });
    expect([none.status, none.body.error.code]).toEqual([404, "NOT_FOUND"]);
    expect(verifyAnswer(jwks, { path: "/api/v1/releases/latest", nonce: none.nonce, headers: none.headers, body: none.raw })).toBe(true);
    expect((await latest({ key: pro.key, fingerprint: "machine-2" })).body.error.code).toBe("NOT_ACTIVATED");
    expect((await latest({ key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", fingerprint: "machine-1" })).status).toBe(404);
    expect((await latest({ key: pro.key })).status).toBe(400);
    expect((await latest({ key: pro.key, fingerprint: "machine-1", channel: "nightly" })).status).toBe(400);
  });

  it("the signed link answers the file, with its sha256 as ETag and its name, and byte ranges", async () => {
    const { body } = await latest({ key: basic.key, fingerprint: "machine-1" });
    expect(body.url.startsWith(`${app.url}/api/v1/releases/download?`)).toBe(true);
    const expected = files.get("1.9.0")!;
    const whole = await fetch(body.url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("keystead-answered-by")).toBe("door");
    expect(whole.headers.get("etag")).toBe(`"${sha256(expected)}"`);
    expect(whole.headers.get("content-length")).toBe(String(expected.length));
    expect(whole.headers.get("content-disposition")).toContain('filename="app-1.9.0.zip"');
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await whole.arrayBuffer()).equals(expected)).toBe(true);

    const range = async (header: string) => {
      const res = await fetch(body.url, { headers: { range: header } });
      return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const first = await range("bytes=0-99");
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-99/${expected.length}`);
    expect(first.bytes.equals(expected.subarray(0, 100))).toBe(true);
    const middle = await range("bytes=1000-");
    expect([middle.status, middle.bytes.length]).toEqual([206, expected.length - 1000]);
    expect(middle.bytes.equals(expected.subarray(1000))).toBe(true);
    const tail = await range("bytes=-10");
    expect(tail.bytes.equals(expected.subarray(expected.length - 10))).toBe(true);
    const beyond = await range(`bytes=${expected.length}-`);
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${expected.length}`);
    // A range of another version of the file (If-Range with another ETag) gets the whole file.
    const stale = await fetch(body.url, { headers: { range: "bytes=0-9", "if-range": '"0000"' } });
    expect([stale.status, (await stale.arrayBuffer()).byteLength]).toEqual([200, expected.length]);

    // An external release redirects after the same checks.
    const linux = await latest({ key: basic.key, fingerprint: "machine-1", platform: "linux" });
    const redirect = await fetch(linux.body.url, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("https://downloads.example.com/app-1.20.0.tar.gz");
  });

  it("an altered or expired link gets 403 and no bytes", async () => {
    const release = ids.get("1.9.0")!;
    // A link signed here works: the same secret as the app's (so the refusals below are about the link).
    const good = await fetch(linkFor(release, basic.id));
    expect(good.status).toBe(200);
    await good.arrayBuffer();

    const url = new URL((await latest({ key: basic.key, fingerprint: "machine-1" })).body.url);
    const altered = (name: string, value: string) => {
      const u = new URL(url);
      u.searchParams.set(name, value);
      return u.toString();
    };
    const sig = url.searchParams.get("s")!;
    for (const bad of [
      altered("s", (sig[0] === "A" ? "B" : "A") + sig.slice(1)),
      altered("e", String(Number(url.searchParams.get("e")) + 3600)),
      altered("l", pro.id),
      altered("r", ids.get("1.11.0-pro")!),
      altered("e", "not-a-number"),
      `${app.url}/api/v1/releases/download`,
    ]) {
      const res = await fetch(bad);
      expect(res.status, bad).toBe(403);
      expect(((await res.json()) as any).error.code).toBe("FORBIDDEN");
    }

    // The clock moved past the link's expiry: a link made 11 minutes ago with the default 10 minutes.
    setClock(() => new Date(Date.now() - 11 * 60_000));
    const expired = linkFor(release, basic.id);
    setClock(undefined);
    const res = await fetch(expired);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("application/json");
  });

  it("another customer's license cannot download: the link is per license and checked again when used", async () => {
    // A genuine link for a release the license may not have (no "pro" entitlement, another product).
    const noEntitlement = await fetch(linkFor(ids.get("1.11.0-pro")!, basic.id));
    expect(noEntitlement.status).toBe(403);
    const otherProduct = await fetch(linkFor(ids.get("1.9.0")!, foreign.id));
    expect(otherProduct.status).toBe(403);
    expect(((await otherProduct.json()) as any).error.code).toBe("PRODUCT_MISMATCH");

    // The portal's list is per customer: only that customer's licenses, each with what it may have.
    const db = app.database.db;
    const mine = await listCustomerDownloads(db, basic.customerId);
    expect(mine.map((l) => l.licenseId)).toEqual([basic.id]);
    const versions = mine[0]!.downloads.map((d) => d.release.version).sort();
    // Newest per channel and platform: 2.0.0-beta.1 (beta), 1.9.0 (every platform), 1.10.0 (Windows), 1.20.0 (Linux), 0.0.1 (limit-test).
    expect(versions).toEqual(["0.0.1", "1.10.0", "1.20.0", "1.9.0", "2.0.0-beta.1"]);
    const listed = await fetch(mine[0]!.downloads.find((d) => d.release.version === "1.9.0")!.url.replace(/^https?:\/\/[^/]+/, app.url));
    expect(Buffer.from(await listed.arrayBuffer()).equals(files.get("1.9.0")!)).toBe(true);
    expect((await listCustomerDownloads(db, foreign.customerId)).flatMap((l) => l.downloads)).toEqual([]);
    expect((await listLicenseDownloads(db, pro.id))!.downloads.map((d) => d.release.version)).toContain("1.11.0");
  });

  it("a revoked license gets nothing: not the latest, not a link it already holds, not a list", async () => {
    const db = app.database.db;
    const customer = await makeCustomer(db);
    const plan = await makePlan(db, { productId: product.id, entitlements: ["pro"] });
    const { key, license } = await makeLicense(db, { planId: plan.id, customerId: customer.id });
    expect((await app.post("/api/v1/licenses/activate", { key, fingerprint: "m" })).status).toBe(201);
    const held = (await latest({ key, fingerprint: "m" })).body.url as string;
    expect((await app.post(`/api/v1/admin/licenses/${license.id}/revoke`, {}, AUTH)).status).toBe(200);

    const res = await fetch(held);
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe("REVOKED");
    expect(text.length).toBeLessThan(500);
    const after = await latest({ key, fingerprint: "m" });
    expect([after.status, after.body.error.code]).toEqual([403, "REVOKED"]);
    expect((await listLicenseDownloads(db, license.id))!.downloads).toEqual([]);
  });
});
