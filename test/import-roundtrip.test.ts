import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { getTableName, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activations, payments, stripeEvents } from "@/server/db/schema";
import { EXPORT_TABLES } from "@/server/domain/admin/export";
import { queueEmail } from "@/server/domain/mail/queue";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import type { TestDb } from "./helpers/db";

// The way out and back in: an instance exported (sealed keys) and imported into a fresh database compares
// equal table by table, row by row; every key validates with the same answer there and every offline token
// issued before the export verifies against the new instance's JWKS. A clear export goes into an instance with
// another AUTH_SECRET; a sealed one is refused there before anything is written.

const AUTH = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const FIXTURES = path.join(process.cwd(), "test/fixtures/import");
const s = crypto.randomBytes(3).toString("hex");

let source: TestApp;
let target: TestApp;
let other: TestApp;
/** Every key issued on the source, as a customer would type it, with the fingerprint it is activated on (if any). */
const keys: { key: string; fingerprint?: string }[] = [];
const tokens: string[] = [];
let sealedExport = "";
let clearExport = "";

async function importFile(app: TestApp, query: string, body: string, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${app.url}/api/v1/admin/import?${query}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
  return { status: res.status, body: await res.json() };
}

async function exportFrom(app: TestApp, keysMode?: "clear" | "sealed") {
  const res = await fetch(`${app.url}/api/v1/admin/export${keysMode ? `?keys=${keysMode}` : ""}`, { headers: AUTH });
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return res.text();
}

/** Every row of a table as JSON text, in a stable order. */
async function rowsOf(db: TestDb, table: PgTable): Promise<string[]> {
  const r = await db.db.execute<{ r: string }>(sql.raw(`select to_jsonb(t)::text as r from "${getTableName(table)}" t`));
  return r.rows.map((x) => x.r).sort();
}

const validate = (app: TestApp, k: { key: string; fingerprint?: string }) =>
  app.post("/api/v1/licenses/validate", { key: k.key, ...(k.fingerprint ? { fingerprint: k.fingerprint } : {}) });

beforeAll(async () => {
  source = await startApp({ env: { WORKER: "off" } });
  const p = await source.post("/api/v1/admin/products", { slug: `rt-${s}`, name: "Round trip" }, AUTH);
  expect(p.status).toBe(201);
  for (const [slug, seats] of [[`rt-solo-${s}`, 1], [`rt-team-${s}`, 5]] as const) {
    const plan = await source.post(
      "/api/v1/admin/plans",
      { product: `rt-${s}`, slug, name: slug, seats, durationDays: null, entitlements: ["export", "sync"], stripePriceIds: [`price_${slug}`] },
      AUTH,
    );
    expect(plan.status).toBe(201);
  }
  for (let i = 0; i < 6; i++) {
    const issued = await source.post("/api/v1/admin/licenses", { plan: i % 2 ? `rt-solo-${s}` : `rt-team-${s}`, email: `rt-${i}-${s}@example.com` }, AUTH);
    expect(issued.status).toBe(201);
    const entry: { key: string; fingerprint?: string } = { key: issued.body.key };
    if (i < 4) {
      entry.fingerprint = `machine-${i}`;
      const act = await source.post("/api/v1/licenses/activate", { key: issued.body.key, fingerprint: entry.fingerprint, name: `Machine ${i}` });
      expect(act.status).toBe(201);
      tokens.push(act.body.token);
    }
    if (i === 4) expect((await source.post(`/api/v1/admin/licenses/${issued.body.license.id}/suspend`, {}, AUTH)).status).toBe(200);
    if (i === 5) expect((await source.post(`/api/v1/admin/licenses/${issued.body.license.id}/revoke`, {}, AUTH)).status).toBe(200);
    keys.push(entry);
  }
  // Keys of another format, imported from Lemon Squeezy, travel too.
  const ls = await importFile(source, `format=lemonsqueezy&plan=rt-team-${s}`, fs.readFileSync(path.join(FIXTURES, "lemonsqueezy-license-keys.json"), "utf8"));
  expect(ls.status, source.logs().slice(-3000)).toBe(200);
  expect(ls.body.counts.licenses).toBe(3);
  keys.push(
    { key: "80e15db5-c796-436b-850c-8f9c98a48abe", fingerprint: "f70a79fa-089f-4ad6-9c84-2d8f1a7d2e11" },
    { key: "3F2B7C1E-9D4A-4E8B-A6C5-1B2D3E4F5A6B" },
    { key: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d" },
  );
  // Stripe facts, an email, a setting.
  const db = source.database.db;
  await db.insert(stripeEvents).values({ id: `evt_rt_${s}`, type: "checkout.session.completed", stripeCreatedAt: new Date("2026-01-02T03:04:05.678Z"), payload: { id: `evt_rt_${s}`, data: { object: { amount: 4900 } } } });
  const [lic] = await db.select({ id: activations.licenseId }).from(activations).limit(1);
  await db.insert(payments).values({ kind: "purchase", licenseId: lic!.id, status: "paid", amount: 4900, currency: "eur", observedAt: new Date() });
  await db.transaction((tx) => queueEmail(tx, { dedupeKey: `rt:${s}`, template: "license-issued", to: `rt-0-${s}@example.com`, props: { licenseIds: [lic!.id] } }));
  // Counts of validations are flushed every 5 s: let them land before the export is compared.
  for (const k of keys) await validate(source, k);
  await new Promise((r) => setTimeout(r, 5_500));

  sealedExport = await exportFrom(source);
  clearExport = await exportFrom(source, "clear");
  target = await startApp({ env: { WORKER: "off" } });
  other = await startApp({ env: { WORKER: "off", AUTH_SECRET: "another-secret-0123456789abcdefgh" } });
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop(), other?.stop()]);
});

describe("export document", () => {
  it("is versioned and keeps keys sealed by default, in the clear when asked", () => {
    const sealed = JSON.parse(sealedExport);
    expect(sealed).toMatchObject({ format: "keystead-export", version: 2, keys: "sealed" });
    expect(sealed.tables.licenses.length).toBe(keys.length);
    for (const l of sealed.tables.licenses) {
      expect(l.keyCiphertext).toMatch(/^v1\./);
      expect(l.key).toBeUndefined();
    }
    for (const k of keys) expect(sealedExport.toUpperCase()).not.toContain(k.key.toUpperCase());
    const clear = JSON.parse(clearExport);
    expect(clear.keys).toBe("clear");
    const clearKeys = clear.tables.licenses.map((l: { key: string }) => l.key.toUpperCase());
    for (const k of keys) expect(clearKeys).toContain(k.key.toUpperCase());
    expect(clear.tables.signingKeys[0].privateKeyCiphertext).toMatch(/^v1\./);
  });

  it("needs the admin scope's token", async () => {
    expect((await source.get("/api/v1/admin/export")).status).toBe(401);
    expect((await importFile(source, "format=keystead&dryRun=1", sealedExport, {})).status).toBe(401);
  });
});

describe("import into an empty instance", () => {
  it("dry-runs first: counts per table, nothing written", async () => {
    const dry = await importFile(target, "format=keystead&dryRun=1", sealedExport);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, refused: [] });
    expect(dry.body.counts.licenses).toBe(keys.length);
    expect(dry.body.counts.activations).toBeGreaterThanOrEqual(6);
    expect(await rowsOf(target.database, EXPORT_TABLES.find((t) => t.name === "licenses")!.table)).toEqual([]);
  });

  it("imports losslessly: every table compares equal row by row", async () => {
    const res = await importFile(target, "format=keystead", sealedExport);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body, target.logs().slice(-3000)).toMatchObject({ dryRun: false, status: "done" });
    for (const spec of EXPORT_TABLES) {
      const before = await rowsOf(source.database, spec.table);
      const after = await rowsOf(target.database, spec.table);
      const missing = before.filter((r) => !after.includes(r));
      expect(missing, spec.name).toEqual([]);
      const extra = after.filter((r) => !before.includes(r));
      // The target's own signing key (made at its first start) and the audit row of the import itself.
      if (spec.name === "signingKeys") expect(extra.length).toBe(1);
      else if (spec.name === "auditLog") expect(extra.map((r) => JSON.parse(r).action)).toEqual(["import.completed"]);
      else expect(extra, spec.name).toEqual([]);
    }
  });

  it("answers every key the same, and verifies every offline token issued before the export", async () => {
    for (const k of keys) {
      const [a, b] = [await validate(source, k), await validate(target, k)];
      expect(b.status).toBe(200);
      expect(b.body, k.key).toEqual(a.body);
    }
    expect((await validate(target, keys[0]!)).body.valid).toBe(true);
    const jwks = createLocalJWKSet((await target.get("/api/v1/jwks")).body);
    for (const token of tokens) {
      const { payload } = await jwtVerify(token, jwks);
      expect(payload.sub).toBeTruthy();
    }
    // The imported instance signs new tokens it can verify too.
    const again = await target.post("/api/v1/licenses/heartbeat", { key: keys[0]!.key, fingerprint: keys[0]!.fingerprint });
    expect(again.status).toBe(200);
    await jwtVerify(again.body.token, createLocalJWKSet((await target.get("/api/v1/jwks")).body));
  });

  it("refuses an instance that is not empty, with a clear code, and writes nothing", async () => {
    const before = await rowsOf(target.database, EXPORT_TABLES.find((t) => t.name === "licenses")!.table);
    for (const q of ["format=keystead&dryRun=1", "format=keystead"]) {
      const res = await importFile(target, q, sealedExport);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("IMPORT_TARGET_NOT_EMPTY");
    }
    expect(await rowsOf(target.database, EXPORT_TABLES.find((t) => t.name === "licenses")!.table)).toEqual(before);
  });

  it("refuses garbage and other versions with UNREADABLE_IMPORT", async () => {
    expect((await importFile(other, "format=keystead", "{not json")).body.error.code).toBe("UNREADABLE_IMPORT");
    const v1 = JSON.stringify({ ...JSON.parse(sealedExport), version: 1 });
    const res = await importFile(other, "format=keystead&dryRun=1", v1);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/version 1/);
  });
});

describe("an instance with another AUTH_SECRET", () => {
  it("refuses a sealed export before writing anything, listing every key it cannot open", async () => {
    const dry = await importFile(other, "format=keystead&dryRun=1", sealedExport);
    expect(dry.status).toBe(200);
    expect(dry.body.refused).toHaveLength(keys.length);
    expect(dry.body.refused[0].reason).toMatch(/another AUTH_SECRET/);
    const res = await importFile(other, "format=keystead", sealedExport);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("SEALED_UNDER_ANOTHER_SECRET");
    expect(await rowsOf(other.database, EXPORT_TABLES.find((t) => t.name === "licenses")!.table)).toEqual([]);
  });

  it("takes a clear export: keys re-sealed here validate the same, old tokens verify with the imported (publish-only) key", async () => {
    const res = await importFile(other, "format=keystead", clearExport);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe("done");
    expect(res.body.counts.publishOnlySigningKeys).toBe(1);
    for (const k of keys) expect((await validate(other, k)).body).toEqual((await validate(source, k)).body);
    const jwks = createLocalJWKSet((await other.get("/api/v1/jwks")).body);
    for (const token of tokens) await jwtVerify(token, jwks);
    // New tokens come from this instance's own key.
    const fresh = await other.post("/api/v1/licenses/heartbeat", { key: keys[1]!.key, fingerprint: keys[1]!.fingerprint });
    expect(fresh.status).toBe(200);
    await jwtVerify(fresh.body.token, jwks);
  });
});
