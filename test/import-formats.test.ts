import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions, users } from "@/server/db/schema";
import { hashSessionToken } from "@/server/auth/hashed-adapter";
import { eventually, startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";

// Importers from the platforms sellers leave, against the built app: each platform's own file (fixtures in
// test/fixtures/import, see its README), a dry run that lists every refused row and why and writes nothing, a
// product -> plan mapping the operator confirms (and that later imports remember), keys that keep working exactly
// as customers typed them, imported activations that count against seats, and refused rows that leave nothing.

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const FIXTURES = path.join(process.cwd(), "test/fixtures/import");
const s = crypto.randomBytes(3).toString("hex");
const SOLO = `imp-solo-${s}`;
const PRO = `imp-pro-${s}`;

let app: TestApp;

const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");

async function importFile(query: Record<string, string | undefined>, body: string) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined) as [string, string][]);
  const res = await fetch(`${app.url}/api/v1/admin/import?${q}`, { method: "POST", headers: { ...AUTH, "content-type": "text/plain" }, body });
  return { status: res.status, body: await res.json() };
}

const validate = (key: string, fingerprint?: string) => app.post("/api/v1/licenses/validate", { key, ...(fingerprint ? { fingerprint } : {}) });

async function customerExists(email: string) {
  const r = await app.database.db.execute<{ n: number }>(sql`select count(*)::int as n from customers where lower(email) = lower(${email})`);
  return r.rows[0]!.n > 0;
}

beforeAll(async () => {
  app = await startApp({ env: { ADMIN_EMAILS: "import-admin@example.com" } });
  expect((await app.post("/api/v1/admin/products", { slug: `imp-${s}`, name: "Imported app" }, AUTH)).status).toBe(201);
  for (const [slug, seats] of [[SOLO, 1], [PRO, 3]] as const) {
    const plan = await app.post(
      "/api/v1/admin/plans",
      { product: `imp-${s}`, slug, name: slug, seats, durationDays: null, entitlements: ["pro"], stripePriceIds: [] },
      AUTH,
    );
    expect(plan.status).toBe(201);
  }
});

afterAll(async () => {
  await app?.stop();
});

describe("Lemon Squeezy", () => {
  it("dry run without a mapping: lists the products, refuses every row, writes nothing", async () => {
    const dry = await importFile({ format: "lemonsqueezy", dryRun: "1" }, fixture("lemonsqueezy-license-keys.json"));
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect(dry.body.counts).toMatchObject({ rows: 4, licenses: 0, refused: 4 });
    expect(dry.body.products).toEqual([
      { ref: "product:11", name: "Pixel Studio", rows: 2, plan: null, mappedBy: null },
      { ref: "product:12", name: "Pixel Studio Team", rows: 1, plan: null, mappedBy: null },
    ]);
    expect(dry.body.refused).toContainEqual({ row: 3, reason: "no customer email" });
    expect(dry.body.refused.find((r: { row: number }) => r.row === 1).reason).toMatch(/no plan for Pixel Studio \(product:11\)/);
    expect(dry.body.plans.map((p: { slug: string }) => p.slug)).toEqual(expect.arrayContaining([SOLO, PRO]));
    expect(await customerExists("darlene@example.com")).toBe(false);
  });

  it("imports the API JSON with the confirmed mapping: keys work as typed, instances take seats", async () => {
    const mapping = JSON.stringify({ "product:11": PRO, "product:12": SOLO });
    const dry = await importFile({ format: "lemonsqueezy", dryRun: "1", mapping }, fixture("lemonsqueezy-license-keys.json"));
    expect(dry.body.counts).toMatchObject({ rows: 4, licenses: 3, activations: 2, newCustomers: 2, refused: 1 });
    expect(dry.body.refused).toEqual([{ row: 3, reason: "no customer email" }]);

    const res = await importFile({ format: "lemonsqueezy", mapping }, fixture("lemonsqueezy-license-keys.json"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: false, status: "done", counts: { licenses: 3, activations: 2, refused: 1 } });

    // Exactly as typed, and as a customer might retype it: upper case, a stray space.
    for (const typed of ["80e15db5-c796-436b-850c-8f9c98a48abe", " 80E15DB5-C796-436B-850C-8F9C98A48ABE ", "80e15db5-c796-436b-850c-8f9c98a48abe\n"]) {
      const v = await validate(typed);
      expect(v.body, typed).toMatchObject({ valid: true, code: "VALID", license: { plan: PRO, maxActivations: 5, activations: 2 } });
    }
    // A different key (one character off) is not found.
    expect((await validate("80e15db5-c796-436b-850c-8f9c98a48abf")).body.code).toBe("NOT_FOUND");
    // The instance is an activation: validated by its identifier, re-activation is idempotent (200, not a new seat).
    expect((await validate("80e15db5-c796-436b-850c-8f9c98a48abe", "f70a79fa-089f-4ad6-9c84-2d8f1a7d2e11")).body).toMatchObject({
      code: "VALID",
      activation: { fingerprint: "f70a79fa-089f-4ad6-9c84-2d8f1a7d2e11", name: "Darlene's MacBook" },
    });
    const again = await app.post("/api/v1/licenses/activate", { key: "80e15db5-c796-436b-850c-8f9c98a48abe", fingerprint: "0d3b0b1e-7a5c-4c19-8f1e-5a6b7c8d9e0f" });
    expect(again.status).toBe(200);
    expect(again.body.license.activations).toBe(2);
    // Statuses: disabled -> suspended; expired -> expired.
    expect((await validate("3f2b7c1e-9d4a-4e8b-a6c5-1b2d3e4f5a6b")).body).toMatchObject({ code: "SUSPENDED", license: { plan: SOLO, maxActivations: 1 } });
    expect((await validate("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")).body).toMatchObject({ code: "EXPIRED", license: { maxActivations: 3 } });
    // The refused row left nothing behind.
    expect((await validate("c0ffee00-1111-4222-8333-444455556666")).body.code).toBe("NOT_FOUND");
  });

  it("a second import remembers the mapping and refuses keys already here", async () => {
    const dry = await importFile({ format: "lemonsqueezy", dryRun: "1" }, fixture("lemonsqueezy-license-keys.json"));
    expect(dry.body.products.map((p: { mappedBy: string }) => p.mappedBy)).toEqual(["saved", "saved"]);
    expect(dry.body.counts).toMatchObject({ licenses: 0, refused: 4 });
    expect(dry.body.refused.filter((r: { reason: string }) => r.reason === "a license with this key already exists here")).toHaveLength(3);
  });

  it("imports the license-key CSV export, per variant, and refuses the row without a key", async () => {
    const csv = fixture("lemonsqueezy-license-keys.csv");
    const dry = await importFile({ format: "lemonsqueezy", dryRun: "1", mapping: JSON.stringify({ "variant:1101": SOLO }), plan: PRO }, csv);
    expect(dry.body.products).toEqual([
      { ref: "variant:1101", name: "Pixel Studio / Personal", rows: 1, plan: SOLO, mappedBy: "mapping" },
      { ref: "variant:1102", name: "Pixel Studio / Business", rows: 1, plan: PRO, mappedBy: "plan" },
    ]);
    const res = await importFile({ format: "lemonsqueezy", mapping: JSON.stringify({ "variant:1101": SOLO }), plan: PRO }, csv);
    expect(res.body).toMatchObject({ status: "done", counts: { licenses: 2, refused: 1 }, refused: [{ row: 3, reason: "no license key" }] });
    expect((await validate("5b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")).body).toMatchObject({ code: "VALID", license: { plan: SOLO, maxActivations: 2 } });
    expect((await validate("6C2D3E4F-5A6B-4C7D-9E8F-0A1B2C3D4E5F")).body).toMatchObject({ code: "VALID", license: { plan: PRO, maxActivations: 10, expiresAt: "2031-01-10T12:00:00.000Z" } });
    expect(await customerExists("keyless@example.com")).toBe(false);
  });
});

describe("Keygen", () => {
  it("imports licenses with owner, policy and machines", async () => {
    const body = fixture("keygen-licenses.json");
    const dry = await importFile({ format: "keygen", dryRun: "1", plan: PRO }, body);
    expect(dry.body.products).toEqual([{ ref: "policy:8c2294b0-dbbe-4028-871a-8e9b1b4b3d9e", name: "Pro (3 machines)", rows: 2, plan: PRO, mappedBy: "plan" }]);
    expect(dry.body.refused).toEqual([{ row: 3, reason: "no customer email" }]);
    const res = await importFile({ format: "keygen", plan: PRO }, body);
    expect(res.body).toMatchObject({ status: "done", counts: { licenses: 2, activations: 1, refused: 1 } });
    const fp = "4f:0c:2a:9e:71:d3:55:b8:1c:e0:aa:42:6d:90:13:77";
    expect((await validate("c1b6de-39a6e3-de1529-8559a6-6bb2d3-v3", fp)).body).toMatchObject({
      code: "VALID",
      license: { maxActivations: 3, activations: 1, expiresAt: "2031-01-01T00:00:00.000Z" },
      activation: { fingerprint: fp, name: "Grace's laptop", platform: "macOS" },
    });
    // Seats hold: 1 imported machine + 2 new ones fill the 3 seats; a fourth is refused.
    for (const m of ["m-2", "m-3"]) expect((await app.post("/api/v1/licenses/activate", { key: "C1B6DE-39A6E3-DE1529-8559A6-6BB2D3-V3", fingerprint: m })).status).toBe(201);
    const full = await app.post("/api/v1/licenses/activate", { key: "C1B6DE-39A6E3-DE1529-8559A6-6BB2D3-V3", fingerprint: "m-4" });
    expect(full.status).toBe(409);
    expect(full.body.error.code).toBe("TOO_MANY_ACTIVATIONS");
    expect((await validate("A9F0C2-77B1D4-0E5C3A-991BC2-D4E5F6-V3")).body.code).toBe("REVOKED");
    expect((await validate("FFEE00-112233-445566-778899-AABBCC-V3")).body.code).toBe("NOT_FOUND");
  });
});

describe("Gumroad", () => {
  it("imports the sales CSV: refunded sales revoked, seats times quantity, sales without a key refused", async () => {
    const csv = fixture("gumroad-sales.csv");
    const mapping = JSON.stringify({ "product:prod_iconpack": SOLO, "product:prod_iconpack:Team": PRO });
    const res = await importFile({ format: "gumroad", mapping }, csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "done", counts: { rows: 3, licenses: 2, refused: 1 } });
    expect(res.body.refused).toEqual([{ row: 3, reason: "no license key (the product was sold without licenses)" }]);
    expect((await validate("85DB562A-C11D4B06-A2335A6B-8C079166")).body).toMatchObject({ code: "VALID", license: { plan: SOLO, maxActivations: 1 } });
    expect((await validate("5e7c7e2c-54d04a60-a428a513-bb73d489")).body).toMatchObject({ code: "REVOKED", license: { plan: PRO, maxActivations: 6 } });
    expect(await customerExists("lee@example.com")).toBe(false);
  });

  it("refuses a CSV that is not a Gumroad sales export", async () => {
    const res = await importFile({ format: "gumroad", plan: SOLO }, "Name,Email\nA,a@example.com\n");
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("UNREADABLE_IMPORT");
  });
});

describe("Polar, as a worker job", () => {
  it("answers 202 with an id, shows progress, then the outcome; activations become seats", async () => {
    const res = await importFile({ format: "polar", plan: PRO, async: "1" }, fixture("polar-license-keys.json"));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ dryRun: false, status: "queued", counts: { licenses: 2, refused: 1 } });
    const id = res.body.importId;
    const done = await eventually(async () => {
      const r = await app.get(`/api/v1/admin/import/${id}`, AUTH);
      return r.body.import?.status === "done" ? r.body.import : null;
    }, 30_000, "the import job");
    expect(done).toMatchObject({ total: 3, processed: 3, counts: { licenses: 2, activations: 1, refused: 1 } });
    expect(done.refused).toEqual([{ row: 3, reason: 'customer email "not-an-email" is not an email address' }]);
    expect((await validate("MYAPP-8F3C2A1B-6D4E-4F5A-9B8C-7D6E5F4A3B2C", "a1e2c3d4-b5f6-4a7b-8c9d-0e1f2a3b4c5d")).body).toMatchObject({
      code: "VALID",
      license: { maxActivations: 2, activations: 1, expiresAt: "2032-06-01T10:00:00.000Z" },
      activation: { name: "Lena's desktop" },
    });
    expect((await validate("myapp-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")).body.code).toBe("REVOKED");
    // The worker ran it; the audit row names who asked for it.
    const audit = await app.database.db.execute<{ actor_type: string; actor_id: string }>(
      sql`select actor_type, actor_id from audit_log where action = 'import.completed' and subject_id = ${id}`,
    );
    expect(audit.rows).toEqual([{ actor_type: "api_token", actor_id: "bootstrap" }]);
    // The upload is not kept once the import is done.
    const stored = await app.database.db.execute<{ n: number }>(sql`select count(*)::int as n from import_jobs where source_ciphertext is not null`);
    expect(stored.rows[0]!.n).toBe(0);
  });
});

describe("bad requests", () => {
  it("answers with codes, never 5xx", async () => {
    expect((await importFile({ format: "paddle" }, "{}")).status).toBe(400);
    const unknownPlan = await importFile({ format: "polar", plan: "no-such-plan" }, fixture("polar-license-keys.json"));
    expect(unknownPlan.status).toBe(404);
    expect(unknownPlan.body.error.code).toBe("PLAN_NOT_FOUND");
    expect((await importFile({ format: "polar", mapping: "[1,2" }, "{}")).status).toBe(400);
    expect((await importFile({ format: "keygen" }, "not json")).body.error.code).toBe("UNREADABLE_IMPORT");
    expect((await importFile({ format: "polar" }, "")).status).toBe(400);
    expect((await app.get("/api/v1/admin/import/not-a-uuid", AUTH)).status).toBe(404);
    expect((await app.get(`/api/v1/admin/import/${crypto.randomUUID()}`, AUTH)).status).toBe(404);
    expect((await app.get(`/api/v1/admin/import/${crypto.randomUUID()}`)).status).toBe(401);
  });
});

describe("the admin app's upload door", () => {
  async function sessionCookie(email: string) {
    const [user] = await app.database.db.insert(users).values({ email }).returning();
    const token = crypto.randomBytes(24).toString("hex");
    await app.database.db.insert(sessions).values({ sessionToken: hashSessionToken(token), userId: user!.id, expires: new Date(Date.now() + 3_600_000) });
    return `next-auth.session-token=${token}`;
  }
  const upload = (headers: Record<string, string>) =>
    fetch(`${app.url}/api/admin/import?format=polar&dryRun=1&plan=${SOLO}`, { method: "POST", headers, body: fixture("polar-license-keys.json") });

  it("takes an admin's session from our own pages only; anyone else gets 401 or 403", async () => {
    expect((await upload({})).status).toBe(401);
    const customer = await sessionCookie(`someone-${s}@example.com`);
    expect((await upload({ cookie: customer })).status).toBe(403);
    const admin = await sessionCookie("import-admin@example.com");
    const crossSite = await upload({ cookie: admin, origin: "https://evil.example" });
    expect(crossSite.status).toBe(403);
    const ok = await upload({ cookie: admin, origin: app.url });
    expect(ok.status).toBe(200);
    expect((await ok.json()).counts).toMatchObject({ rows: 3, refused: 3 });
    expect((await fetch(`${app.url}/api/admin/import/${crypto.randomUUID()}`, { headers: { cookie: customer } })).status).toBe(403);
  });
});
