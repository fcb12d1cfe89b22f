import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activations, auditLog, licenses } from "@/server/db/schema";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";

const DAY = 86_400_000;

describe("public license routes", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const db = () => app.database.db;
  const setLicense = (id: string, values: Partial<typeof licenses.$inferInsert>) =>
    db().update(licenses).set(values).where(eq(licenses.id, id));
  const validate = (body: Record<string, unknown>) => app.post("/api/v1/licenses/validate", body);
  const activate = (body: Record<string, unknown>) => app.post("/api/v1/licenses/activate", body);

  async function fixture(opts: { seats?: number; graceDays?: number; entitlements?: string[]; expiresAt?: Date | null } = {}) {
    const product = await makeProduct(db());
    const plan = await makePlan(db(), {
      productId: product.id,
      seats: opts.seats ?? 3,
      graceDays: opts.graceDays ?? 0,
      entitlements: opts.entitlements ?? ["export", "sync"],
    });
    const { license, key } = await makeLicense(db(), { planId: plan.id, expiresAt: opts.expiresAt });
    return { product, plan, license, key };
  }

  describe("validate", () => {
    it("answers VALID with the license shape, for any spelling of the key", async () => {
      const { key, license, product, plan } = await fixture({ expiresAt: new Date(Date.now() + 30 * DAY) });
      for (const spelling of [key, key.toLowerCase(), key.replaceAll("-", ""), ` ${key.replaceAll("-", " ")} `]) {
        const res = await validate({ key: spelling });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({
          valid: true,
          code: "VALID",
          license: {
            id: license.id,
            status: "active",
            product: product.slug,
            plan: plan.slug,
            expiresAt: license.expiresAt!.toISOString(),
            entitlements: ["export", "sync"],
            maxActivations: 3,
            activations: 0,
          },
          activation: null,
        });
      }
    });

    it("answers NOT_FOUND with a null license for an unknown key, with 200", async () => {
      for (const key of ["AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "not a key", "ABC"]) {
        const res = await validate({ key });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ valid: false, code: "NOT_FOUND", license: null, activation: null });
      }
    });

    it("names each reason a license is not usable, in the contract's order", async () => {
      const { key, license, product } = await fixture({ graceDays: 3 });
      const expect200 = async (body: Record<string, unknown>, code: string) => {
        const res = await validate({ key, ...body });
        expect(res.status).toBe(200);
        expect({ valid: res.body.valid, code: res.body.code }).toEqual({ valid: code === "VALID", code });
        expect(res.body.license.id).toBe(license.id);
        return res.body;
      };

      await expect200({ product: product.slug, entitlements: ["export"] }, "VALID");
      await expect200({ product: "some-other-product" }, "PRODUCT_MISMATCH");
      await expect200({ entitlements: ["export", "admin"] }, "ENTITLEMENTS_MISSING");
      await expect200({ fingerprint: "never-activated" }, "NOT_ACTIVATED");

      await setLicense(license.id, { status: "past_due" });
      await expect200({}, "VALID");

      await setLicense(license.id, { status: "suspended" });
      await expect200({ product: "some-other-product" }, "SUSPENDED");

      // Revoked wins over suspended-looking and expired: it is checked first.
      await setLicense(license.id, { status: "revoked", expiresAt: new Date(Date.now() - 10 * DAY) });
      await expect200({}, "REVOKED");

      await setLicense(license.id, { status: "expired", expiresAt: null });
      expect((await expect200({}, "EXPIRED")).license.status).toBe("expired");

      // Past its expiry but inside the plan's 3 grace days: still valid.
      await setLicense(license.id, { status: "active", expiresAt: new Date(Date.now() - 2 * DAY) });
      await expect200({}, "VALID");
      // Past the grace: expired, even before any sweep marks the row.
      await setLicense(license.id, { status: "active", expiresAt: new Date(Date.now() - 4 * DAY) });
      const body = await expect200({}, "EXPIRED");
      expect(body.license.status).toBe("expired");
      await expect200({ fingerprint: "never-activated", product: "x" }, "EXPIRED");
    });

    it("a plan without grace days expires exactly at expiresAt", async () => {
      const { key, license } = await fixture({ graceDays: 0 });
      await setLicense(license.id, { expiresAt: new Date(Date.now() + 60_000) });
      expect((await validate({ key })).body.code).toBe("VALID");
      await setLicense(license.id, { expiresAt: new Date(Date.now() - 1000) });
      expect((await validate({ key })).body.code).toBe("EXPIRED");
    });
  });

  describe("activate", () => {
    it("creates an activation (201), and the same fingerprint again gets the same one back (200)", async () => {
      const { key, license } = await fixture();
      const first = await activate({ key, fingerprint: "fp-1", name: "Ada's laptop", platform: "macos", metadata: { os: "14.2" } });
      expect(first.status).toBe(201);
      expect(first.body.activation).toEqual({
        id: expect.any(String),
        fingerprint: "fp-1",
        name: "Ada's laptop",
        platform: "macos",
        createdAt: expect.any(String),
        lastSeenAt: expect.any(String),
      });
      expect(first.body.license).toMatchObject({ id: license.id, activations: 1, maxActivations: 3 });
      expect(typeof first.body.token).toBe("string");

      const again = await activate({ key: key.toLowerCase(), fingerprint: "fp-1" });
      expect(again.status).toBe(200);
      expect(again.body.activation.id).toBe(first.body.activation.id);
      expect(again.body.activation.name).toBe("Ada's laptop");
      expect(again.body.license.activations).toBe(1);
      expect(Date.parse(again.body.activation.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(first.body.activation.lastSeenAt));

      const rows = await db().select().from(activations).where(eq(activations.licenseId, license.id));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.metadata).toEqual({ os: "14.2" });
      const audits = await db()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.subjectId, license.id), eq(auditLog.action, "activation.created")));
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({ actorType: "system", actorId: null, metadata: { via: "client-api" } });

      const check = await validate({ key, fingerprint: "fp-1" });
      expect(check.body).toMatchObject({ valid: true, code: "VALID", activation: { id: first.body.activation.id } });
    });

    it("refuses unknown, suspended, revoked, expired and other-product licenses", async () => {
      const unknown = await activate({ key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", fingerprint: "fp" });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("NOT_FOUND");

      const { key, license } = await fixture();
      const mismatch = await activate({ key, fingerprint: "fp", product: "another-product" });
      expect([mismatch.status, mismatch.body.error.code]).toEqual([403, "PRODUCT_MISMATCH"]);

      for (const [values, code] of [
        [{ status: "suspended" }, "SUSPENDED"],
        [{ status: "revoked" }, "REVOKED"],
        [{ status: "expired" }, "EXPIRED"],
        [{ status: "active", expiresAt: new Date(Date.now() - DAY) }, "EXPIRED"],
      ] as const) {
        await setLicense(license.id, values);
        const res = await activate({ key, fingerprint: "fp" });
        expect([res.status, res.body.error.code]).toEqual([403, code]);
        expect(res.body.error.message).toEqual(expect.any(String));
      }
      expect(await db().select().from(activations).where(eq(activations.licenseId, license.id))).toHaveLength(0);
    });

    it("refuses a machine beyond the seats with 409 TOO_MANY_ACTIVATIONS", async () => {
      const { key } = await fixture({ seats: 2 });
      expect((await activate({ key, fingerprint: "a" })).status).toBe(201);
      expect((await activate({ key, fingerprint: "b" })).status).toBe(201);
      const third = await activate({ key, fingerprint: "c" });
      expect([third.status, third.body.error.code]).toEqual([409, "TOO_MANY_ACTIVATIONS"]);
      // An already activated machine is still answered.
      expect((await activate({ key, fingerprint: "a" })).status).toBe(200);
    });

    it("50 concurrent activations on a 3-seat license: exactly 3 succeed", async () => {
      const { key, license } = await fixture({ seats: 3 });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => activate({ key, fingerprint: `machine-${i}` })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(3);
      expect(statuses.filter((s) => s === 409)).toHaveLength(47);
      for (const r of results.filter((r) => r.status === 409)) expect(r.body.error.code).toBe("TOO_MANY_ACTIVATIONS");

      const [{ n }] = (await db().execute<{ n: number }>(sql`select count(*)::int as n from activations where license_id = ${license.id}`)).rows as [{ n: number }];
      expect(n).toBe(3);
      const winners = results.filter((r) => r.status === 201).map((r) => r.body.activation.fingerprint).sort();
      const stored = (await db().select().from(activations).where(eq(activations.licenseId, license.id))).map((a) => a.fingerprint).sort();
      expect(stored).toEqual(winners);
    });

    it("the same machine activating 20 times at once gets one activation", async () => {
      const { key, license } = await fixture({ seats: 1 });
      const results = await Promise.all(Array.from({ length: 20 }, () => activate({ key, fingerprint: "same-machine" })));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status === 200)).toHaveLength(19);
      expect(new Set(results.map((r) => r.body.activation.id)).size).toBe(1);
      expect(await db().select().from(activations).where(eq(activations.licenseId, license.id))).toHaveLength(1);
    });

    it("floating seats: a machine silent for longer than the plan's heartbeat window gives its seat up", async () => {
      const product = await makeProduct(db());
      const plan = await makePlan(db(), { productId: product.id, seats: 1, heartbeatWindowSeconds: 600 });
      const { key, license } = await makeLicense(db(), { planId: plan.id });
      expect((await activate({ key, fingerprint: "old" })).status).toBe(201);
      // Seen recently: the seat is taken.
      expect((await activate({ key, fingerprint: "new" })).status).toBe(409);

      await db().update(activations).set({ lastSeenAt: new Date(Date.now() - 700_000) }).where(eq(activations.licenseId, license.id));
      const res = await activate({ key, fingerprint: "new" });
      expect(res.status).toBe(201);
      const stored = await db().select().from(activations).where(eq(activations.licenseId, license.id));
      expect(stored.map((a) => a.fingerprint)).toEqual(["new"]);
      const lapsed = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, license.id), eq(auditLog.action, "activation.lapsed")));
      expect(lapsed).toHaveLength(1);
    });
    it("a machine activating again gets its activation back with what it sent refreshed, 40 machines at once", async () => {
      const { key, license } = await fixture({ seats: 40 });
      const first = await Promise.all(
        Array.from({ length: 40 }, (_, i) => activate({ key, fingerprint: `m-${i}`, name: `box ${i}`, platform: "linux", metadata: { i } })),
      );
      expect(first.map((r) => r.status)).toEqual(Array(40).fill(201));
      // Again, at once: half send a new name and metadata, half send nothing but the key and fingerprint.
      const again = await Promise.all(
        Array.from({ length: 40 }, (_, i) => activate(i % 2 ? { key, fingerprint: `m-${i}`, name: `renamed ${i}`, metadata: { i, v: 2 } } : { key, fingerprint: `m-${i}` })),
      );
      again.forEach((r, i) => {
        expect(r.status, `m-${i}`).toBe(200);
        expect(r.body.activation).toMatchObject({ id: first[i]!.body.activation.id, fingerprint: `m-${i}`, name: i % 2 ? `renamed ${i}` : `box ${i}`, platform: "linux" });
        expect(Date.parse(r.body.activation.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(first[i]!.body.activation.lastSeenAt));
        expect(r.body.license).toMatchObject({ id: license.id, activations: 40 });
        expect(typeof r.body.token).toBe("string");
      });
      const stored = new Map((await db().select().from(activations).where(eq(activations.licenseId, license.id))).map((a) => [a.fingerprint, a]));
      expect(stored.size).toBe(40);
      for (let i = 0; i < 40; i++) {
        expect([stored.get(`m-${i}`)!.name, stored.get(`m-${i}`)!.metadata]).toEqual(i % 2 ? [`renamed ${i}`, { i, v: 2 }] : [`box ${i}`, { i }]);
      }
      // Activating again created nothing: one audit row per machine, from the first round.
      const audits = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, license.id), eq(auditLog.action, "activation.created")));
      expect(audits).toHaveLength(40);
    });

    it("a lapsed machine coming back races a new machine for the last floating seat: exactly one holds it", async () => {
      const product = await makeProduct(db());
      const plan = await makePlan(db(), { productId: product.id, seats: 1, heartbeatWindowSeconds: 600 });
      for (let round = 0; round < 20; round++) {
        const { key, license } = await makeLicense(db(), { planId: plan.id });
        expect((await activate({ key, fingerprint: "returning" })).status).toBe(201);
        await db().update(activations).set({ lastSeenAt: new Date(Date.now() - 700_000) }).where(eq(activations.licenseId, license.id));
        // Sent together, or the newcomer a little ahead, so both orders of the two commits occur.
        const newcomerFirst = activate({ key, fingerprint: "newcomer" });
        await new Promise((r) => setTimeout(r, round % 5));
        const [back, newcomer] = await Promise.all([activate({ key, fingerprint: "returning" }), newcomerFirst]);
        const won = [back, newcomer].filter((r) => r.status < 300);
        expect(won, `round ${round}: ${back.status} / ${newcomer.status}`).toHaveLength(1);
        const loser = back.status < 300 ? newcomer : back;
        expect([loser.status, loser.body.error.code]).toEqual([409, "TOO_MANY_ACTIVATIONS"]);
        const stored = await db().select().from(activations).where(eq(activations.licenseId, license.id));
        expect(stored.map((a) => a.fingerprint)).toEqual([won[0]!.body.activation.fingerprint]);
        expect(stored[0]!.id).toBe(won[0]!.body.activation.id);
      }
    });
  });

  describe("deactivate", () => {
    it("frees the seat; the fingerprint then validates as NOT_ACTIVATED", async () => {
      const { key, license } = await fixture({ seats: 1 });
      expect((await activate({ key, fingerprint: "fp-1" })).status).toBe(201);

      const res = await app.post("/api/v1/licenses/deactivate", { key, fingerprint: "fp-1" });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ deactivated: true });

      const check = await validate({ key, fingerprint: "fp-1" });
      expect(check.body).toMatchObject({ valid: false, code: "NOT_ACTIVATED", activation: null, license: { activations: 0 } });
      const audits = await db().select().from(auditLog).where(and(eq(auditLog.subjectId, license.id), eq(auditLog.action, "activation.deleted")));
      expect(audits).toHaveLength(1);

      // The seat is free again.
      expect((await activate({ key, fingerprint: "fp-2" })).status).toBe(201);
    });

    it("answers 404 NOT_ACTIVATED and NOT_FOUND", async () => {
      const { key } = await fixture();
      const notActivated = await app.post("/api/v1/licenses/deactivate", { key, fingerprint: "nope" });
      expect([notActivated.status, notActivated.body.error.code]).toEqual([404, "NOT_ACTIVATED"]);
      const notFound = await app.post("/api/v1/licenses/deactivate", { key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", fingerprint: "x" });
      expect([notFound.status, notFound.body.error.code]).toEqual([404, "NOT_FOUND"]);
    });

    it("works on a suspended license, so its machine can be moved off", async () => {
      const { key, license } = await fixture();
      expect((await activate({ key, fingerprint: "fp" })).status).toBe(201);
      await setLicense(license.id, { status: "suspended" });
      expect((await app.post("/api/v1/licenses/deactivate", { key, fingerprint: "fp" })).status).toBe(200);
    });
  });

  describe("heartbeat", () => {
    it("records last seen and returns a fresh token", async () => {
      const { key, license } = await fixture();
      const first = await activate({ key, fingerprint: "fp" });
      await db().update(activations).set({ lastSeenAt: new Date(Date.now() - DAY) }).where(eq(activations.licenseId, license.id));

      const res = await app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "fp" });
      expect(res.status).toBe(200);
      expect(res.body.activation.id).toBe(first.body.activation.id);
      expect(Date.now() - Date.parse(res.body.activation.lastSeenAt)).toBeLessThan(60_000);
      expect(res.body.license).toMatchObject({ id: license.id, activations: 1 });
      expect(res.body.token).toEqual(expect.any(String));
      expect(res.body.token).not.toBe(first.body.token);
      const [row] = await db().select().from(activations).where(eq(activations.licenseId, license.id));
      expect(Date.now() - row!.lastSeenAt.getTime()).toBeLessThan(60_000);
    });

    it("refuses a suspended, revoked or expired license, an unknown key and an unknown machine", async () => {
      const { key, license } = await fixture();
      expect((await activate({ key, fingerprint: "fp" })).status).toBe(201);

      const unknownMachine = await app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "other" });
      expect([unknownMachine.status, unknownMachine.body.error.code]).toEqual([404, "NOT_ACTIVATED"]);
      const unknownKey = await app.post("/api/v1/licenses/heartbeat", { key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", fingerprint: "fp" });
      expect([unknownKey.status, unknownKey.body.error.code]).toEqual([404, "NOT_FOUND"]);
      const mismatch = await app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "fp", product: "nope" });
      expect([mismatch.status, mismatch.body.error.code]).toEqual([403, "PRODUCT_MISMATCH"]);

      for (const [status, code] of [
        ["suspended", "SUSPENDED"],
        ["revoked", "REVOKED"],
        ["expired", "EXPIRED"],
      ] as const) {
        await setLicense(license.id, { status });
        const res = await app.post("/api/v1/licenses/heartbeat", { key, fingerprint: "fp" });
        expect([res.status, res.body.error.code]).toEqual([403, code]);
        expect(res.body.token).toBeUndefined();
      }
    });
  });

  it("answers other methods with 405 and the error body", async () => {
    for (const route of ["validate", "activate", "deactivate", "heartbeat"]) {
      const res = await app.get(`/api/v1/licenses/${route}`);
      expect(res.status).toBe(405);
      expect(res.body.error.code).toBe("METHOD_NOT_ALLOWED");
      expect(res.headers.get("allow")).toBe("POST");
    }
    const jwks = await app.post("/api/v1/jwks", {});
    expect([jwks.status, jwks.body.error.code]).toEqual([405, "METHOD_NOT_ALLOWED"]);
  });

  it("logged no unhandled error", () => {
    expect(app.logs()).not.toContain("unhandled error");
  });
});
