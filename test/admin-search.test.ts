import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { activations, customers, LICENSE_STATUSES, licenses, type LicenseStatus } from "@/server/db/schema";
import { parseKeyHint, readQuery, searchLicenses, type SearchLicensesInput, type SearchReading } from "@/server/domain/admin/search";
import { SYSTEM } from "@/server/domain/audit/record";
import { DAY_MS, now } from "@/server/domain/clock";
import { effectiveStatus } from "@/server/domain/licensing/expiry";
import { hashLicenseKey } from "@/server/domain/licensing/license-key";
import { issueLicense } from "@/server/domain/licensing/issue";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makePlan, makeProduct } from "./helpers/factories";

// License search against a reference: a few hundred licenses with shared timestamps, shared hints, tricky
// emails and shared fingerprints; every query is paged through with a small page size and compared with the
// same question answered by plain JavaScript over all rows.

const admin: AppSession = { user: { id: crypto.randomUUID(), email: "search@example.com", isAdmin: true }, customerId: null };

type Ref = {
  id: string;
  key: string;
  keyHash: string;
  keyHint: string;
  status: LicenseStatus;
  expiresAt: Date | null;
  graceDays: number;
  product: string;
  plan: string;
  customerId: string;
  email: string;
  fingerprints: string[];
  at: string;
};

let database: TestDb;
let rows: Ref[] = [];
const FINGERPRINTS = ["fp-shared", "FP-Shared", "machine 7", "abc", "ABCDE", "x%y", ...Array.from({ length: 20 }, (_, i) => `fp-${i}`)];
/** Days from now; null: perpetual. */
const EXPIRY_OFFSETS = [null, null, -10, -3, -1, 30];
const EMAILS = [
  "alice@example.com",
  "Alice.Smith@Example.com",
  "al_ice@example.com",
  "al%ce@example.com",
  "bob@example.org",
  "BOB+tag@example.org",
  "abcde@example.net",
  "carol@example.com",
  ...Array.from({ length: 30 }, (_, i) => `user${i}@corp${i % 3}.test`),
];

beforeAll(async () => {
  database = await createTestDatabase("adminsearch");
  const db = database.db;
  const p1 = await makeProduct(db, { slug: "studio" });
  const p2 = await makeProduct(db, { slug: "player" });
  const plans = [
    await makePlan(db, { productId: p1.id, slug: "studio-pro", seats: 5, graceDays: 0 }),
    await makePlan(db, { productId: p1.id, slug: "studio-lite", seats: 5, graceDays: 2 }),
    await makePlan(db, { productId: p2.id, slug: "player-std", seats: 5, graceDays: 5 }),
  ];
  const planInfo = new Map([
    [plans[0]!.id, { product: "studio", plan: "studio-pro" }],
    [plans[1]!.id, { product: "studio", plan: "studio-lite" }],
    [plans[2]!.id, { product: "player", plan: "player-std" }],
  ]);
  const buyers = await db
    .insert(customers)
    .values(EMAILS.map((email) => ({ email })))
    .returning();

  // Deterministic pseudo-randomness, so a failure can be reproduced.
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  // Only 40 distinct instants for 300 licenses: ties on created_at are the norm, so the id tie-break matters.
  const base = Date.parse("2030-01-01T00:00:00.000Z");
  for (let i = 0; i < 300; i++) {
    const plan = plans[rand(3)]!;
    const buyer = buyers[rand(buyers.length)]!;
    const { license, key } = await issueLicense(db, SYSTEM, { planId: plan.id, customerId: buyer.id, source: "manual" });
    const at = new Date(base + rand(40) * 1000 + rand(3) / 1000);
    const status = LICENSE_STATUSES[rand(LICENSE_STATUSES.length)]!;
    // Expiries at least a day away from any plan's lapse instant (grace 0, 2 or 5 days), so the run cannot cross one.
    const offset = EXPIRY_OFFSETS[rand(EXPIRY_OFFSETS.length)]!;
    const expiresAt = offset === null ? null : new Date(Date.now() + offset * DAY_MS);
    await db.execute(sql`update ${licenses} set created_at = ${at.toISOString()}::timestamptz + (${rand(5)} || ' microseconds')::interval, status = ${status},
      expires_at = ${expiresAt?.toISOString() ?? null}::timestamptz where id = ${license.id}`);
    const fps = [...new Set(Array.from({ length: rand(3) }, () => FINGERPRINTS[rand(FINGERPRINTS.length)]!))];
    if (fps.length) await db.insert(activations).values(fps.map((fingerprint) => ({ licenseId: license.id, fingerprint })));
    rows.push({
      id: license.id,
      key,
      keyHash: license.keyHash,
      keyHint: license.keyHint,
      status,
      expiresAt,
      graceDays: plan.graceDays,
      ...planInfo.get(plan.id)!,
      customerId: buyer.id,
      email: buyer.email,
      fingerprints: fps,
      at: "",
    });
  }
  // A few licenses share a hint (it is only five characters), one of them a hint that is also an email prefix.
  for (const r of rows.slice(0, 4)) r.keyHint = "ABCDE";
  for (const r of rows.slice(4, 6)) r.keyHint = "7K3QF";
  await db.execute(sql`update ${licenses} set key_hint = 'ABCDE' where id in (${sql.join(rows.slice(0, 4).map((r) => sql`${r.id}::uuid`), sql`, `)})`);
  await db.execute(sql`update ${licenses} set key_hint = '7K3QF' where id in (${sql.join(rows.slice(4, 6).map((r) => sql`${r.id}::uuid`), sql`, `)})`);

  const times = await db.execute<{ id: string; at: string }>(
    sql`select id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at from ${licenses}`,
  );
  const atById = new Map(times.rows.map((t) => [t.id, t.at]));
  rows = rows.map((r) => ({ ...r, at: atById.get(r.id)! }));
});

afterAll(async () => {
  await database?.drop();
});

/**
 * The reference answer: plain JavaScript over every row. With a query: by customer email (byte order, as
 * PostgreSQL's ~<~), then newest first; without one, newest first. Ties by id, as PostgreSQL orders uuids.
 */
function reference(q: string, field: SearchLicensesInput["field"], filters: Partial<Pick<Ref, "status" | "product" | "plan" | "customerId">>) {
  const readings: SearchReading[] = q ? readQuery(q, field ?? "auto") : [];
  const matches = (r: Ref) =>
    !q ||
    readings.some((reading) => {
      switch (reading.by) {
        case "key":
          return r.keyHash === hashLicenseKey(q);
        case "hint":
          return r.keyHint === reading.hint;
        case "id":
          return r.id === reading.id || r.customerId === reading.id;
        case "email":
          return r.email.toLowerCase().startsWith(reading.prefix.toLowerCase());
        case "fingerprint":
          return r.fingerprints.includes(reading.fingerprint);
      }
    });
  return rows
    .filter(matches)
    // The status the rows show, not the stored one: a lapsed license the sweep has not reached reads "expired".
    .filter((r) => !filters.status || effectiveStatus(r, now()) === filters.status)
    .filter((r) => !filters.product || r.product === filters.product)
    .filter((r) => !filters.plan || r.plan === filters.plan)
    .filter((r) => !filters.customerId || r.customerId === filters.customerId)
    .sort((a, b) => {
      if (q) {
        const [ea, eb] = [a.email.toLowerCase(), b.email.toLowerCase()];
        if (ea !== eb) return ea < eb ? -1 : 1;
      }
      return a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1;
    })
    .map((r) => r.id);
}

async function everyPage(input: SearchLicensesInput, viaTrpc = false): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const page = viaTrpc
      ? await createCaller({ db: database.db, session: admin, headers: new Headers() }).licenses.search({ ...input, cursor })
      : await searchLicenses(database.db, { ...input, cursor });
    expect(page.data.length).toBeLessThanOrEqual(input.limit ?? 25);
    ids.push(...page.data.map((r) => r.id));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
  throw new Error("paging never ended");
}

describe("reading the query", () => {
  it("knows a whole key, a hint, an id, and otherwise tries email prefix and fingerprint", () => {
    const key = rows[10]!.key;
    expect(readQuery(key.toLowerCase().replaceAll("-", " "), "auto")).toEqual([{ by: "key" }]);
    expect(readQuery(rows[10]!.id.toUpperCase(), "auto")).toEqual([{ by: "id", id: rows[10]!.id }]);
    expect(readQuery("…-abcde", "auto")).toEqual([{ by: "hint", hint: "ABCDE" }, { by: "email", prefix: "…-abcde" }, { by: "fingerprint", fingerprint: "…-abcde" }]);
    expect(readQuery("machine 7", "auto")).toEqual([{ by: "fingerprint", fingerprint: "machine 7" }]);
    expect(readQuery("alice", "email")).toEqual([{ by: "email", prefix: "alice" }]);
    expect(readQuery("not-a-key", "key")).toEqual([]);
    expect(parseKeyHint("•••••-•••••-•••••-•••••-7k3qf")).toBe("7K3QF");
    expect(parseKeyHint("ABCD")).toBe(null);
    expect(parseKeyHint("ABCDU")).toBe(null);
    expect(parseKeyHint("oil00")).toBe("01100");
  });
});

describe("search matches the reference", () => {
  const cases: { name: string; q: () => string; field?: SearchLicensesInput["field"] }[] = [
    { name: "a full key, as typed", q: () => rows[17]!.key.toLowerCase() },
    { name: "a full key, field key", q: () => rows[18]!.key.replaceAll("-", ""), field: "key" },
    { name: "a shared hint", q: () => "…-ABCDE" },
    { name: "a hint that is also an email prefix and a fingerprint", q: () => "abcde" },
    { name: "a hint, field key", q: () => "7k3qf", field: "key" },
    { name: "an email prefix in another case", q: () => "ALICE" },
    { name: "an email prefix with a LIKE wildcard", q: () => "al_" },
    { name: "an email prefix with a percent sign", q: () => "al%" },
    { name: "a whole email", q: () => "bob+tag@example.org" },
    { name: "an email prefix, field email", q: () => "user1", field: "email" },
    { name: "a shared fingerprint (exact case)", q: () => "fp-shared" },
    { name: "a fingerprint with a space", q: () => "machine 7" },
    { name: "a fingerprint with a percent sign", q: () => "x%y", field: "fingerprint" },
    { name: "a customer id", q: () => rows[3]!.customerId },
    { name: "a customer id, field customer", q: () => rows[3]!.customerId, field: "customer" },
    { name: "a license id", q: () => rows[42]!.id },
    { name: "nothing matches", q: () => "zzz-nothing" },
    { name: "no query: every license", q: () => "" },
  ];
  const filterSets: { name: string; f: () => Partial<Pick<Ref, "status" | "product" | "plan" | "customerId">> }[] = [
    { name: "no filter", f: () => ({}) },
    { name: "status", f: () => ({ status: "active" }) },
    { name: "product", f: () => ({ product: "studio" }) },
    { name: "plan and status", f: () => ({ plan: "player-std", status: "revoked" }) },
    { name: "expired, lapsed ones included", f: () => ({ status: "expired" }) },
    { name: "product and past_due", f: () => ({ product: "studio", status: "past_due" }) },
    { name: "customer", f: () => ({ customerId: rows[3]!.customerId }) },
  ];

  for (const c of cases) {
    for (const fs of filterSets) {
      it(`${c.name}; ${fs.name}`, async () => {
        const q = c.q();
        const filters = fs.f();
        const expected = reference(q, c.field, filters);
        const got = await everyPage({ q, field: c.field, ...filters, limit: 7 });
        expect(got).toEqual(expected);
      });
    }
  }

  it("finds something for the interesting cases (so the comparisons above are not all empty)", () => {
    expect(reference("…-ABCDE", "auto", {})).toHaveLength(4);
    expect(reference("abcde", "auto", {}).length).toBeGreaterThan(4);
    expect(reference("ALICE", "auto", {}).length).toBeGreaterThan(0);
    expect(reference("fp-shared", "auto", {}).length).toBeGreaterThan(0);
    expect(reference("", "auto", {})).toHaveLength(300);
    // Some licenses are stored as working but have lapsed (the sweep never ran here): the filters must see them.
    const unswept = rows.filter((r) => (r.status === "active" || r.status === "past_due") && effectiveStatus(r, now()) === "expired");
    expect(unswept.length).toBeGreaterThan(5);
    expect(reference("", "auto", { status: "expired" })).toEqual(expect.arrayContaining(unswept.map((r) => r.id)));
    expect(reference("", "auto", { status: "active" }).some((id) => unswept.some((r) => r.id === id))).toBe(false);
  });

  it("pages the same way through the tRPC procedure, one page size after another", async () => {
    for (const limit of [1, 3, 25, 100]) {
      expect(await everyPage({ q: "", limit }, true)).toEqual(reference("", "auto", {}));
    }
  });

  it("says how it read the query", async () => {
    const page = await searchLicenses(database.db, { q: "abcde" });
    expect(page.readings.map((r) => r.by)).toEqual(["hint", "email", "fingerprint"]);
  });

  it("refuses a cursor it did not make", async () => {
    await expect(searchLicenses(database.db, { cursor: "bm9wZQ" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
