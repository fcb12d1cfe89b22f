import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Keystead, memoryStorage } from "../sdk/src/index";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { activations } from "@/server/db/schema";
import { freeLapsedSeats as freeLapsedSeatsSweep } from "@/server/domain/sweeps/floating-seats";
import { maxOfflineTokenLifetimeSeconds } from "@/server/domain/tokens/offline-token";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { appCode } from "./helpers/trpc";

// Activation files (machines that never go online) through the management API of the built app and the
// portal's tRPC procedures, on one database: seats shared with online activation, the file verified by the
// SDK with the app stopped, a plan without them refused, another customer's license refused.

const DAY = 86_400_000;
const NO_LIMITS = { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" };
const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

let database: TestDb;
let app: TestApp | undefined;
beforeAll(async () => {
  database = await createTestDatabase("airgap");
  app = await startApp({ database, env: NO_LIMITS });
});
afterAll(async () => {
  await app?.stop();
  await database?.drop();
});

const makeFile = (licenseId: string, body: unknown) => app!.post(`/api/v1/admin/licenses/${licenseId}/activation-file`, body, ADMIN);
const seatsOf = async (licenseId: string) => (await database.db.select().from(activations).where(eq(activations.licenseId, licenseId))).length;

const portal = (customerId: string | null) =>
  createCaller({
    db: database.db,
    session: { user: { id: crypto.randomUUID(), email: "someone@example.com", isAdmin: false }, customerId } satisfies AppSession,
    headers: new Headers(),
  }).portal;

async function airGappedLicense(opts: { seats?: number; ttlDays?: number | null; expiresAt?: Date | null; customerId?: string } = {}) {
  const product = await makeProduct(database.db);
  const plan = await makePlan(database.db, {
    productId: product.id,
    seats: opts.seats ?? 2,
    entitlements: ["render"],
    airGappedTtlDays: opts.ttlDays === undefined ? 365 : opts.ttlDays,
  });
  const { license, key } = await makeLicense(database.db, {
    planId: plan.id,
    maxActivations: opts.seats ?? 2,
    expiresAt: opts.expiresAt ?? null,
    customerId: opts.customerId,
  });
  return { product, plan, license, key };
}

describe("activation files", () => {
  it("the management API takes a seat, marks it air-gapped, and the SDK checks the file offline with the app stopped", async () => {
    const { product, license, key } = await airGappedLicense({ seats: 2 });
    const before = Date.now();
    const made = await makeFile(license.id, { fingerprint: "lab-pc-1", name: "Lab PC 1" });
    expect(made.status).toBe(201);
    expect(made.body.activation).toMatchObject({ fingerprint: "lab-pc-1", name: "Lab PC 1", airGapped: true });
    const doc = JSON.parse(made.body.file);
    expect(doc).toMatchObject({ format: "keystead-activation-file-v1", license: license.id, product: product.slug, fingerprint: "lab-pc-1" });
    // The plan's 365 days, not the 14-day default of online tokens.
    const expiresAt = Date.parse(made.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 365 * DAY - 5000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 365 * DAY + 5000);

    const detail = await app!.get(`/api/v1/admin/licenses/${license.id}`, ADMIN);
    expect(detail.body.activations).toEqual([expect.objectContaining({ fingerprint: "lab-pc-1", airGapped: true })]);

    // The same fingerprint again reuses its seat; a second machine takes the last one; a third is refused,
    // by a file or by an online activation alike (one seat rule).
    const again = await makeFile(license.id, { fingerprint: "lab-pc-1" });
    expect(again.status).toBe(201);
    expect(again.body.activation.id).toBe(made.body.activation.id);
    expect((await makeFile(license.id, { fingerprint: "lab-pc-2" })).status).toBe(201);
    const third = await makeFile(license.id, { fingerprint: "lab-pc-3" });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("TOO_MANY_ACTIVATIONS");
    const online = await app!.post("/api/v1/licenses/activate", { key, fingerprint: "laptop" });
    expect(online.status).toBe(409);
    expect(online.body.error.code).toBe("TOO_MANY_ACTIVATIONS");
    expect(await seatsOf(license.id)).toBe(2);

    const jwks = (await app!.get("/api/v1/jwks")).body.keys;
    await app!.stop();
    app = undefined;

    let clock = Date.now();
    const machine = new Keystead({
      url: "http://127.0.0.1:9",
      fingerprint: "lab-pc-1",
      product: product.slug,
      publicKeys: jwks,
      storage: memoryStorage(),
      now: () => clock,
      timeoutMs: 2000,
    });
    expect(await machine.loadActivationFile(made.body.file)).toMatchObject({
      valid: true,
      code: "VALID",
      source: "offline",
      license: { id: license.id },
      entitlements: ["render"],
    });
    expect(machine.has("render")).toBe(true);
    // Well past any online token's lifetime, still inside the file's.
    clock += 200 * DAY;
    expect(await machine.check()).toMatchObject({ valid: true, source: "offline" });
    clock += 170 * DAY;
    expect(await machine.check()).toMatchObject({ valid: false, code: "TOKEN_EXPIRED" });

    // The file is for one machine: another fingerprint refuses it.
    const other = new Keystead({ url: "http://127.0.0.1:9", fingerprint: "lab-pc-9", publicKeys: jwks, timeoutMs: 2000 });
    expect(await other.loadActivationFile(made.body.file)).toMatchObject({ valid: false, code: "NOT_ACTIVATED" });
  });

  it("racing file requests never exceed the seats", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const { license } = await airGappedLicense({ seats: 2 });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => makeFile(license.id, { fingerprint: `racer-${i}` })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 409, 409, 409, 409]);
    expect(await seatsOf(license.id)).toBe(2);
  });

  it("never outlives the license: the file expires with it", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const expiresAt = new Date(Date.now() + 10 * DAY);
    const { license } = await airGappedLicense({ expiresAt });
    const made = await makeFile(license.id, { fingerprint: "short" });
    expect(made.status).toBe(201);
    expect(Date.parse(made.body.expiresAt)).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
  });

  it("floating seats never lapse an air-gapped machine (it is never seen, by design); an online one does lapse", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const product = await makeProduct(database.db);
    const plan = await makePlan(database.db, { productId: product.id, seats: 1, airGappedTtlDays: 30, heartbeatWindowSeconds: 60 });
    const { license, key } = await makeLicense(database.db, { planId: plan.id, maxActivations: 1 });
    const longAgo = new Date(Date.now() - DAY);

    expect((await makeFile(license.id, { fingerprint: "bunker" })).status).toBe(201);
    await database.db.update(activations).set({ lastSeenAt: longAgo }).where(eq(activations.licenseId, license.id));
    const refused = await app!.post("/api/v1/licenses/activate", { key, fingerprint: "laptop" });
    expect(refused.body.error?.code).toBe("TOO_MANY_ACTIVATIONS");
    // Nor does the every-minute sweep free it.
    await freeLapsedSeatsSweep(database.db, { limit: 10_000 });
    expect(await seatsOf(license.id)).toBe(1);

    // The control: the same silence from an online machine frees its seat.
    await database.db.delete(activations).where(eq(activations.licenseId, license.id));
    expect((await app!.post("/api/v1/licenses/activate", { key, fingerprint: "laptop" })).status).toBe(201);
    await database.db.update(activations).set({ lastSeenAt: longAgo }).where(eq(activations.licenseId, license.id));
    await freeLapsedSeatsSweep(database.db, { limit: 10_000 });
    expect(await seatsOf(license.id)).toBe(0);
    expect((await makeFile(license.id, { fingerprint: "bunker" })).status).toBe(201);
  });

  it("a license that may not run gets no file: suspended is 403 SUSPENDED", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const { license } = await airGappedLicense();
    expect((await app!.post(`/api/v1/admin/licenses/${license.id}/suspend`, {}, ADMIN)).status).toBe(200);
    const refused = await makeFile(license.id, { fingerprint: "nope" });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("SUSPENDED");
    expect(await seatsOf(license.id)).toBe(0);
  });

  it("a plan without airGappedTtlDays is refused with INVALID_STATE naming the setting, and takes no seat", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const { license } = await airGappedLicense({ ttlDays: null });
    const refused = await makeFile(license.id, { fingerprint: "nope" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("INVALID_STATE");
    expect(refused.body.error.message).toContain("airGappedTtlDays");
    expect(await seatsOf(license.id)).toBe(0);

    const bad = await makeFile(license.id, { fingerprint: "" });
    expect(bad.status).toBe(400);
    expect((await makeFile(crypto.randomUUID(), { fingerprint: "x" })).status).toBe(404);
    expect((await app!.post(`/api/v1/admin/licenses/${license.id}/activation-file`, { fingerprint: "x" })).status).toBe(401);
  });

  it("plans take airGappedTtlDays through the management API", async () => {
    app ??= await startApp({ database, env: NO_LIMITS });
    const product = await makeProduct(database.db);
    const body = { product: product.slug, slug: `air-${crypto.randomBytes(3).toString("hex")}`, name: "Offline", seats: 1, durationDays: null, entitlements: [], stripePriceIds: [] };
    const created = await app!.post("/api/v1/admin/plans", { ...body, airGappedTtlDays: 730 }, ADMIN);
    expect(created.status).toBe(201);
    expect(created.body.plan.airGappedTtlDays).toBe(730);
    const off = await app!.post("/api/v1/admin/plans", { ...body, slug: `${body.slug}-off` }, ADMIN);
    expect(off.body.plan.airGappedTtlDays).toBeNull();
    const bad = await app!.post("/api/v1/admin/plans", { ...body, slug: `${body.slug}-bad`, airGappedTtlDays: 0 }, ADMIN);
    expect(bad.status).toBe(400);
    const patch = (slug: string, change: unknown) =>
      fetch(`${app!.url}/api/v1/admin/plans/${slug}`, { method: "PATCH", headers: { ...ADMIN, "content-type": "application/json" }, body: JSON.stringify(change) });
    const turnedOn = await patch(`${body.slug}-off`, { airGappedTtlDays: 30 });
    expect(turnedOn.status).toBe(200);
    expect(((await turnedOn.json()) as any).plan).toMatchObject({ slug: `${body.slug}-off`, airGappedTtlDays: 30, name: "Offline" });
    const turnedOff = await patch(body.slug, { airGappedTtlDays: null });
    expect(((await turnedOff.json()) as any).plan.airGappedTtlDays).toBeNull();
    expect((await patch("no-such-plan", { airGappedTtlDays: 1 })).status).toBe(404);
    // A key that signed a file stays published as long as the longest file lives (key rotation reads this).
    expect(await maxOfflineTokenLifetimeSeconds(database.db)).toBeGreaterThanOrEqual(365 * 86_400);

    const doc = (await app!.get("/api/v1/openapi.json")).body;
    expect(doc.paths["/api/v1/admin/licenses/{id}/activation-file"].post.operationId).toBe("createActivationFile");
    expect(doc.components.schemas.CreatePlanInput.properties).toHaveProperty("airGappedTtlDays");
  });

  it("portal: a customer makes one for their own license only; deactivating it frees the seat", async () => {
    const mine = await makeCustomer(database.db);
    const theirs = await makeCustomer(database.db);
    const { license } = await airGappedLicense({ seats: 1, customerId: mine.id });
    const { license: othersLicense } = await airGappedLicense({ seats: 1, customerId: theirs.id });

    const made = await portal(mine.id).activationFile({ licenseId: license.id, fingerprint: "cabin-pc", name: "Cabin PC" });
    expect(made.activation).toMatchObject({ fingerprint: "cabin-pc", airGapped: true });
    expect(JSON.parse(made.file).token).toEqual(expect.any(String));
    const [listed] = (await portal(mine.id).licenses()).filter((l) => l.id === license.id);
    expect(listed).toMatchObject({ activationFiles: true, activations: [expect.objectContaining({ fingerprint: "cabin-pc", airGapped: true })] });

    expect(await appCode(portal(mine.id).activationFile({ licenseId: othersLicense.id, fingerprint: "sneaky" }))).toBe("NOT_FOUND");
    expect(await appCode(portal(null).activationFile({ licenseId: license.id, fingerprint: "sneaky" }))).toBe("NOT_FOUND");
    expect(await seatsOf(othersLicense.id)).toBe(0);

    expect(await appCode(portal(mine.id).activationFile({ licenseId: license.id, fingerprint: "second" }))).toBe("TOO_MANY_ACTIVATIONS");
    await portal(mine.id).deactivate({ activationId: made.activation.id });
    const next = await portal(mine.id).activationFile({ licenseId: license.id, fingerprint: "second" });
    expect(next.activation.fingerprint).toBe("second");
    expect(await seatsOf(license.id)).toBe(1);
  });
});
