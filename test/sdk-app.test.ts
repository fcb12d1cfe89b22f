import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Keystead, memoryStorage, type Storage } from "../sdk/src/index";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { startFakeKeystead } from "./helpers/fake-keystead";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";

const DAY = 86_400_000;
const NO_LIMITS = { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" };

// The SDK against the real built app, over its whole life on one machine: online, offline, a clock moved
// both ways, the app back, then a revocation. One database outlives the first app so a second one can
// take over (on another port) as "the server is back".
describe("@keystead/client against the real app", () => {
  let database: TestDb;
  let app: TestApp | undefined;
  beforeAll(async () => {
    database = await createTestDatabase("sdk");
    app = await startApp({ database, env: NO_LIMITS });
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  it("activate, online, offline, grace, TOKEN_EXPIRED, CLOCK_TAMPERED, back online, revoked", async () => {
    const product = await makeProduct(database.db);
    const plan = await makePlan(database.db, { productId: product.id, seats: 1, entitlements: ["export"] });
    const { key, license } = await makeLicense(database.db, { planId: plan.id });
    const storage: Storage = memoryStorage();
    let clock = Date.now();
    const client = (url: string) =>
      new Keystead({ url, fingerprint: "machine-1", product: product.slug, storage, graceSeconds: (20 * DAY) / 1000, now: () => clock, timeoutMs: 3000 });

    let ks = client(app!.url);
    const activated = await ks.activate(key, { name: "laptop" });
    expect(activated).toMatchObject({ ok: true, code: "VALID", license: { id: license.id }, activation: { fingerprint: "machine-1" } });
    expect(await ks.check()).toMatchObject({ valid: true, code: "VALID", source: "online", entitlements: ["export"] });
    expect(ks.has("export")).toBe(true);

    await app!.stop();
    const offline = await ks.check();
    expect(offline).toMatchObject({ valid: true, source: "offline", license: { id: license.id, product: product.slug } });
    expect(ks.has("export")).toBe(true);

    // The 14-day token is past exp; 20 days of grace from the last online contact are not.
    clock += 15 * DAY;
    expect(await ks.check()).toMatchObject({ valid: true, source: "grace" });
    clock += 6 * DAY;
    expect(await ks.check()).toMatchObject({ valid: false, code: "TOKEN_EXPIRED" });
    expect(ks.has("export")).toBe(false);

    // Back to today: 21 days behind what this machine has already seen.
    clock = Date.now();
    expect(await ks.check()).toMatchObject({ valid: false, code: "CLOCK_TAMPERED" });

    app = await startApp({ database, env: NO_LIMITS });
    ks = client(app.url);
    expect(await ks.check()).toMatchObject({ valid: true, source: "online" });

    const revoked = await app.post(`/api/v1/admin/licenses/${license.id}/revoke`, {}, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
    expect(revoked.status).toBe(200);
    expect(await ks.check()).toMatchObject({ valid: false, code: "REVOKED", source: "online" });
    expect(await storage.get("keystead:token")).toBeNull();
    await app.stop();
    app = undefined;
    expect(await ks.check()).toMatchObject({ valid: false, code: "NO_TOKEN" });
  });

  it("an impostor at the app's address is refused when the app's keys are pinned", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const { key } = await makeLicense(database.db);
    const jwks = (await app.get("/api/v1/jwks")).body;
    const impostor = await startFakeKeystead();
    try {
      const ks = new Keystead({ url: impostor.url, fingerprint: "machine-2", publicKeys: jwks.keys });
      expect(await ks.activate(key)).toMatchObject({ ok: false, code: "SIGNATURE_INVALID" });
      expect(await ks.check()).toMatchObject({ valid: false });
      const genuine = new Keystead({ url: app.url, fingerprint: "machine-2", publicKeys: jwks.keys });
      expect(await genuine.activate(key)).toMatchObject({ ok: true });
      expect(await genuine.check()).toMatchObject({ valid: true, source: "online" });
    } finally {
      await impostor.close();
    }
  });
});
