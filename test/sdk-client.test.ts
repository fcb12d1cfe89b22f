import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Keystead, memoryStorage, type Storage } from "../sdk/src/index";
import { fileStorage, machineFingerprint } from "../sdk/src/node";
import { startFakeKeystead, type FakeKeystead } from "./helpers/fake-keystead";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const KEY = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE";
const down = { status: 503, body: { error: { code: "INTERNAL", message: "down" } } };

describe("@keystead/client against a fake server", () => {
  let fake: FakeKeystead;
  let storage: Storage;
  let clock: number;
  const sdk = (over: Partial<ConstructorParameters<typeof Keystead>[0]> = {}) =>
    new Keystead({ url: fake.url, fingerprint: "machine-1", product: "app", storage, now: () => clock, ...over });

  beforeEach(async () => {
    fake = await startFakeKeystead({ ttlSeconds: DAY / 1000, entitlements: ["export"] });
    storage = memoryStorage();
    clock = Date.now();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("activates, checks online with a fresh nonce per call, and answers has() from the check", async () => {
    const ks = sdk();
    const activated = await ks.activate(KEY, { name: "laptop" });
    expect(activated).toMatchObject({ ok: true, code: "VALID", license: { id: "lic-1" }, activation: { fingerprint: "machine-1" } });
    const result = await ks.check();
    expect(result).toMatchObject({ valid: true, code: "VALID", source: "online", entitlements: ["export"] });
    expect(Date.parse(result.tokenExpiresAt!)).toBeGreaterThan(Date.now() + DAY - 60_000);
    expect(ks.has("export")).toBe(true);
    expect(ks.has("sync")).toBe(false);
    const nonces = fake.requests.map((r) => r.nonce);
    expect(nonces).toHaveLength(2);
    expect(new Set(nonces).size).toBe(2);
    expect(fake.requests[1]).toMatchObject({ path: "/api/v1/licenses/heartbeat", body: { key: KEY, fingerprint: "machine-1", product: "app" } });
  });

  it("falls back to the stored token when the server answers 5xx or cannot be reached", async () => {
    await sdk().activate(KEY);
    fake.reply.heartbeat = down;
    expect(await sdk().check()).toMatchObject({ valid: true, code: "VALID", source: "offline", entitlements: ["export"] });
    fake.reply.heartbeat = { status: 429, body: { error: { code: "RATE_LIMITED", message: "slow down" } } };
    expect(await sdk().check()).toMatchObject({ valid: true, source: "offline" });
    await fake.close();
    const offline = new Keystead({ url: fake.url, fingerprint: "machine-1", storage, now: () => clock, timeoutMs: 2000 });
    const result = await offline.check();
    expect(result).toMatchObject({ valid: true, source: "offline", license: { id: "lic-1", product: "app" } });
    expect(offline.has("export")).toBe(true);
    fake = await startFakeKeystead(); // for afterEach
  });

  it("past exp: grace counted from the last online contact, then TOKEN_EXPIRED", async () => {
    await sdk({ graceSeconds: (3 * DAY) / 1000 }).activate(KEY);
    fake.reply.heartbeat = down;
    const ks = sdk({ graceSeconds: (3 * DAY) / 1000 });
    clock += 12 * HOUR;
    expect(await ks.check()).toMatchObject({ valid: true, source: "offline" });
    clock += DAY; // the 1-day token is past its exp
    expect(await ks.check()).toMatchObject({ valid: true, source: "grace", entitlements: ["export"] });
    clock += 2 * DAY; // 3.5 days after the last online contact
    const expired = await ks.check();
    expect(expired).toMatchObject({ valid: false, code: "TOKEN_EXPIRED", entitlements: [] });
    expect(ks.has("export")).toBe(false);
    // Without grace (the default), the same moment past exp is TOKEN_EXPIRED at once.
    expect(await sdk().check()).toMatchObject({ valid: false, code: "TOKEN_EXPIRED" });
  });

  it("a clock set back more than 10 minutes behind the latest trusted time is CLOCK_TAMPERED until an online check", async () => {
    const ks = sdk();
    await ks.activate(KEY);
    // A proxy's error page: unsigned, so it tells the SDK nothing about the time.
    fake.reply.heartbeat = down;
    fake.misbehave = "unsigned";
    clock -= 9 * 60_000;
    expect(await ks.check()).toMatchObject({ valid: true, source: "offline" });
    clock -= 2 * 60_000;
    expect(await ks.check()).toMatchObject({ valid: false, code: "CLOCK_TAMPERED" });
    // A clock that ran ahead and came back: own checks count as trusted time too.
    clock = Date.now() + 2 * HOUR;
    expect(await ks.check()).toMatchObject({ valid: true, source: "offline" });
    clock = Date.now();
    expect(await ks.check()).toMatchObject({ valid: false, code: "CLOCK_TAMPERED" });
    // The server is back: its signed Date is the truth again.
    fake.misbehave = "none";
    fake.reply.heartbeat = null;
    expect(await ks.check()).toMatchObject({ valid: true, source: "online" });
    fake.misbehave = "unsigned";
    fake.reply.heartbeat = down;
    expect(await ks.check()).toMatchObject({ valid: true, source: "offline" });
  });

  it.each(["SUSPENDED", "REVOKED", "EXPIRED"])("403 %s deletes the token: offline it no longer counts", async (code) => {
    const ks = sdk();
    await ks.activate(KEY);
    fake.reply.heartbeat = { status: 403, body: { error: { code, message: "no" } } };
    expect(await ks.check()).toMatchObject({ valid: false, code, source: "online" });
    expect(await storage.get("keystead:token")).toBeNull();
    fake.reply.heartbeat = down;
    expect(await ks.check()).toMatchObject({ valid: false, code: "NO_TOKEN" });
  });

  it("404 NOT_ACTIVATED: not activated any more, the token is gone", async () => {
    const ks = sdk();
    await ks.activate(KEY);
    fake.reply.heartbeat = { status: 404, body: { error: { code: "NOT_ACTIVATED", message: "gone" } } };
    expect(await ks.check()).toMatchObject({ valid: false, code: "NOT_ACTIVATED" });
    expect(await storage.get("keystead:token")).toBeNull();
  });

  it.each(["unsigned", "wrong-key", "wrong-nonce", "stale-date", "tampered-body"] as const)(
    "refuses a %s answer: activate() reports SIGNATURE_INVALID and stores nothing from it",
    async (misbehaviour) => {
      fake.misbehave = misbehaviour;
      const ks = sdk();
      expect(await ks.activate(KEY)).toEqual({ ok: false, code: "SIGNATURE_INVALID", license: null, activation: null });
      expect(await storage.get("keystead:token")).toBeNull();
      expect(await storage.get("keystead:key")).toBeNull();
    },
  );

  it("an impostor's VALID never counts: the answer is refused and only our own stored token can speak", async () => {
    const ks = sdk({ graceSeconds: 0 });
    await ks.activate(KEY);
    const genuine = await storage.get("keystead:token");
    fake.misbehave = "wrong-key";
    // The impostor hands out a token with more entitlements: it is not stored, has() does not see it.
    fake.reply.heartbeat = { status: 200, body: { license: {}, activation: {}, token: fake.token({ entitlements: ["everything"] }) } };
    const result = await ks.check();
    expect(result).toMatchObject({ valid: true, source: "offline", entitlements: ["export"] });
    expect(ks.has("everything")).toBe(false);
    expect(await storage.get("keystead:token")).toBe(genuine);
    // Once our own token is past exp, the impostor cannot keep the software running.
    clock += 2 * DAY;
    expect(await ks.check()).toMatchObject({ valid: false, code: "TOKEN_EXPIRED" });
    // With no token of our own left, the refusal is what the check reports.
    await storage.delete("keystead:token");
    expect(await ks.check()).toMatchObject({ valid: false, code: "SIGNATURE_INVALID", source: "none" });
  });

  it("pinned publicKeys: a server signing with any other key is refused, even one that publishes it", async () => {
    const genuine = await startFakeKeystead();
    try {
      const ks = sdk({ publicKeys: genuine.jwks.keys });
      expect(await ks.activate(KEY)).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
      const right = new Keystead({ url: genuine.url, fingerprint: "machine-1", storage, publicKeys: genuine.jwks.keys });
      expect(await right.activate(KEY)).toMatchObject({ ok: true });
    } finally {
      await genuine.close();
    }
  });

  it("loadActivationFile: a token for this machine checks offline with no key and no network; another machine's is refused", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: fake.url, sub: "lic-9", iat, exp: iat + 30 * 86_400, jti: "j", product: "app", plan: "pro", entitlements: ["air"], status: "active", licenseExpiresAt: null, maxActivations: 1 };
    const ks = sdk({ publicKeys: fake.jwks.keys });
    expect(await ks.loadActivationFile(fake.token({ ...claims, fingerprint: "machine-2" }))).toMatchObject({ valid: false });
    expect(await ks.loadActivationFile(`\n${fake.token({ ...claims, fingerprint: "machine-1" })}\n`)).toMatchObject({
      valid: true,
      source: "offline",
      entitlements: ["air"],
    });
    expect(ks.has("air")).toBe(true);
    expect(fake.requests).toHaveLength(0);
  });

  it("deactivate frees the seat and forgets the license locally", async () => {
    const ks = sdk();
    await ks.activate(KEY);
    expect(await ks.deactivate()).toEqual({ ok: true, code: "DEACTIVATED" });
    expect(fake.requests.at(-1)).toMatchObject({ path: "/api/v1/licenses/deactivate", body: { key: KEY, fingerprint: "machine-1" } });
    expect(await ks.check()).toMatchObject({ valid: false, code: "NO_TOKEN", source: "none" });
  });

  it("startHeartbeat checks in the background, reports each result, until stopHeartbeat", async () => {
    const ks = sdk();
    await ks.activate(KEY);
    const heard: string[] = [];
    ks.startHeartbeat(50, (r) => heard.push(`${r.source}:${r.code}`));
    const deadline = Date.now() + 10_000;
    while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    fake.reply.heartbeat = { status: 403, body: { error: { code: "REVOKED", message: "no" } } };
    while (!heard.includes("online:REVOKED") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ks.stopHeartbeat();
    expect(heard.slice(0, 2)).toEqual(["online:VALID", "online:VALID"]);
    expect(heard).toContain("online:REVOKED");
    expect(ks.has("export")).toBe(false);
    await new Promise((r) => setTimeout(r, 100)); // a check in flight at stop time may still land
    const count = fake.requests.length;
    expect(count).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.requests.length).toBe(count);
  });
});

describe("@keystead/client/node", () => {
  it("fileStorage keeps state across instances in a 0600 file", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "ks-")), "state", "license.json");
    const a = fileStorage(file);
    await Promise.all([a.set("x", "1"), a.set("y", "2")]);
    const b = fileStorage(file);
    expect(await b.get("x")).toBe("1");
    expect(await b.get("y")).toBe("2");
    await b.delete("x");
    expect(await fileStorage(file).get("x")).toBeNull();
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ y: "2" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("machineFingerprint hashes the OS machine id with the product", () => {
    const id = readFileSync("/etc/machine-id", "utf8").trim();
    const expected = crypto.createHash("sha256").update(`keystead-fingerprint-v1\nphoto-app\n${id}`).digest("hex");
    expect(machineFingerprint({ product: "photo-app" })).toBe(expected);
    expect(machineFingerprint({ product: "photo-app" })).toBe(machineFingerprint({ product: "photo-app" }));
    expect(machineFingerprint({ product: "other-app" })).not.toBe(expected);
    expect(machineFingerprint({ product: "photo-app" })).not.toContain(id);
  });
});
