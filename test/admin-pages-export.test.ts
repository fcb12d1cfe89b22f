import crypto from "node:crypto";
import { count, eq, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activations,
  auditLog,
  customers,
  emailOutbox,
  licenses,
  planPrices,
  plans,
  products,
  payments,
  sessions,
  signingKeys,
  stripeEvents,
  users,
} from "@/server/db/schema";
import { hashSessionToken } from "@/server/auth/hashed-adapter";
import { csvCell, exportJson, exportLicensesCsv, inSnapshot, LICENSE_CSV_COLUMNS } from "@/server/domain/admin/export";
import { generateLicenseKey, sealLicenseKey } from "@/server/domain/licensing/license-key";
import { queueEmail } from "@/server/domain/mail/queue";
import { ensureSigningKey } from "@/server/domain/tokens/keyring";
import { startApp, type TestApp } from "./helpers/app";
import type { TestDb } from "./helpers/db";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";

// The exit plan: the JSON export holds every table that matters with license keys in the clear, the CSV one
// line per license, both streamed in batches from one snapshot; the download routes are admin-only.

const ADMIN_EMAIL = "export-admin@example.com";
const uniq = () => crypto.randomBytes(3).toString("hex");

let app: TestApp;
let database: TestDb;
/** Every license's plain key, by license id. */
const keys = new Map<string, string>();
let trickyLicenseId = "";
let paymentId = "";

beforeAll(async () => {
  app = await startApp({ env: { ADMIN_EMAILS: ADMIN_EMAIL, WORKER: "off" } });
  database = app.database;
  const db = database.db;
  await ensureSigningKey(db);

  const product = await makeProduct(db, { name: 'Studio "Pro", 2027' });
  const plan = await makePlan(db, { productId: product.id, stripePriceIds: [`price_${uniq()}`], seats: 2, entitlements: ["a", "b"] });
  const customer = await makeCustomer(db, `=cmd-${uniq()}@example.com`);
  const { license, key } = await makeLicense(db, { planId: plan.id, customerId: customer.id });
  keys.set(license.id, key);
  trickyLicenseId = license.id;
  await db.update(licenses).set({ status: "suspended", statusReason: 'Chargeback, "disputed"\nsee ticket' }).where(eq(licenses.id, license.id));
  await db.insert(activations).values({ licenseId: license.id, fingerprint: "fp-1", name: "Laptop", metadata: { os: "linux" } });
  const [payment] = await db
    .insert(payments)
    .values({ kind: "purchase", licenseId: license.id, status: "paid", amount: 4900, currency: "eur", observedAt: new Date() })
    .returning();
  paymentId = payment!.id;
  await db.insert(stripeEvents).values({ id: `evt_${uniq()}`, type: "checkout.session.completed", stripeCreatedAt: new Date(), payload: { id: "x", data: { object: {} } } });
  await db.transaction((tx) =>
    queueEmail(tx, { dedupeKey: `exp:${uniq()}`, template: "license-issued", to: customer.email, customerId: customer.id, props: { licenseIds: [license.id] } }),
  );

  // More licenses than one batch (1,000), written in bulk.
  const many = Array.from({ length: 2_345 }, () => generateLicenseKey());
  const buyers = await db
    .insert(customers)
    .values(many.map((_, i) => ({ email: `bulk-${i}-${uniq()}@example.com` })))
    .returning({ id: customers.id });
  const inserted = await db
    .insert(licenses)
    .values(many.map((k, i) => ({ ...sealLicenseKey(k), customerId: buyers[i]!.id, planId: plan.id, maxActivations: 1, source: "import" })))
    .returning({ id: licenses.id, keyHint: licenses.keyHint });
  inserted.forEach((row, i) => keys.set(row.id, many[i]!));
});

afterAll(async () => {
  await app?.stop();
});

async function collect(gen: AsyncGenerator<string>) {
  const chunks: string[] = [];
  for await (const c of gen) chunks.push(c);
  return chunks;
}

const tableCount = async (table: PgTable) =>
  (await database.db.select({ n: count() }).from(table))[0]!.n;

/** A small RFC 4180 reader, enough to check what we write. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ""), i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

describe("JSON export", () => {
  it("round-trips every table that matters, with license keys revealed and no secret at rest", async () => {
    const chunks = await collect(inSnapshot(database.pool, (db) => exportJson(db, { keys: "clear" })));
    // Streamed: many small chunks, not one big string.
    expect(chunks.length).toBeGreaterThan(20);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(2_000_000);
    const doc = JSON.parse(chunks.join(""));
    expect(doc).toMatchObject({ format: "keystead-export", version: 2, keys: "clear" });
    const t = doc.tables;
    expect(Object.keys(t)).toEqual([
      "products",
      "plans",
      "planPrices",
      "customers",
      "licenses",
      "activations",
      "stripeEvents",
      "stripeSubscriptions",
      "payments",
      "stripeCharges",
      "stripeLicenseStates",
      "emailOutbox",
      "licenseNotices",
      "auditLog",
      "apiTokens",
      "usageDaily",
      "settings",
      "signingKeys",
    ]);
    expect(t.products).toHaveLength(await tableCount(products));
    expect(t.plans).toHaveLength(await tableCount(plans));
    expect(t.planPrices).toHaveLength(await tableCount(planPrices));
    expect(t.customers).toHaveLength(await tableCount(customers));
    expect(t.licenses).toHaveLength(await tableCount(licenses));
    expect(t.activations).toHaveLength(await tableCount(activations));
    expect(t.stripeEvents).toHaveLength(await tableCount(stripeEvents));
    expect(t.payments).toHaveLength(await tableCount(payments));
    expect(t.payments.map((p: { id: string }) => p.id)).toEqual([paymentId]);
    expect(t.emailOutbox).toHaveLength(await tableCount(emailOutbox));
    expect(t.auditLog).toHaveLength(await tableCount(auditLog));
    expect(t.signingKeys).toHaveLength(await tableCount(signingKeys));

    // Every license carries its plain key, and nothing sealed.
    expect(t.licenses.length).toBeGreaterThan(2_000);
    for (const l of t.licenses) expect(l.key, l.id).toBe(keys.get(l.id));
    expect(new Set(t.licenses.map((l: { id: string }) => l.id)).size).toBe(t.licenses.length);
    const text = chunks.join("");
    expect(text).not.toContain("keyCiphertext");
    // Signing keys travel sealed (as stored), never as a raw private key.
    const [storedKey] = await database.db.select().from(signingKeys).limit(1);
    expect(t.signingKeys.find((k: { kid: string }) => k.kid === storedKey!.kid)).toEqual(
      expect.objectContaining({ publicKey: storedKey!.publicKey, privateKeyCiphertext: storedKey!.privateKeyCiphertext }),
    );
    expect(storedKey!.privateKeyCiphertext).toMatch(/^v1\./);

    const tricky = t.licenses.find((l: { id: string }) => l.id === trickyLicenseId);
    expect(tricky).toMatchObject({ status: "suspended", statusReason: 'Chargeback, "disputed"\nsee ticket' });
    expect(t.activations.find((a: { licenseId: string }) => a.licenseId === trickyLicenseId)).toMatchObject({
      fingerprint: "fp-1",
      metadata: { os: "linux" },
    });
  });

  it("reads one snapshot: rows written while the export runs are not half in it", async () => {
    const gen = inSnapshot(database.pool, (db) => exportJson(db));
    const first = await gen.next(); // the snapshot is taken now
    expect(first.done).toBe(false);
    const plan = await makePlan(database.db);
    const late = await makeLicense(database.db, { planId: plan.id });
    keys.set(late.license.id, late.key);
    const rest = await collect(gen);
    const doc = JSON.parse(first.value + rest.join(""));
    expect(doc.tables.plans.some((p: { id: string }) => p.id === plan.id)).toBe(false);
  });
});

describe("CSV export", () => {
  it("has one line per license with its key, quoting what needs quoting and defusing formulas", async () => {
    const text = (await collect(inSnapshot(database.pool, (db) => exportLicensesCsv(db)))).join("");
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...LICENSE_CSV_COLUMNS]);
    expect(rows).toHaveLength(await tableCount(licenses));
    const col = (name: (typeof LICENSE_CSV_COLUMNS)[number]) => LICENSE_CSV_COLUMNS.indexOf(name);
    for (const r of rows) {
      expect(r).toHaveLength(LICENSE_CSV_COLUMNS.length);
      expect(r[col("key")], r[col("id")]).toBe(keys.get(r[col("id")]!));
    }
    const tricky = rows.find((r) => r[col("id")] === trickyLicenseId)!;
    expect(tricky[col("status_reason")]).toBe('Chargeback, "disputed"\nsee ticket');
    expect(tricky[col("customer_email")]).toMatch(/^'=cmd-/);
    expect(tricky[col("activations")]).toBe("1");
  });

  it("csvCell quotes separators and prefixes formula starters", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("@x")).toBe("'@x");
    expect(csvCell(new Date("2030-01-01T00:00:00Z"))).toBe("2030-01-01T00:00:00.000Z");
  });
});

describe("download routes", () => {
  async function sessionCookie(email: string) {
    const [user] = await database.db
      .insert(users)
      .values({ email })
      .onConflictDoUpdate({ target: users.email, set: { email } })
      .returning();
    const token = crypto.randomBytes(24).toString("hex");
    await database.db.insert(sessions).values({ sessionToken: hashSessionToken(token), userId: user!.id, expires: new Date(Date.now() + 3_600_000) });
    return { cookie: `next-auth.session-token=${token}` };
  }

  it("refuses anonymous callers (401) and non-admins (403)", async () => {
    for (const path of ["/api/admin/export/json", "/api/admin/export/licenses-csv"]) {
      const anon = await app.get(path);
      expect(anon.status, path).toBe(401);
      expect(anon.body.error.code).toBe("UNAUTHORIZED");
      const someone = await app.get(path, await sessionCookie(`someone-${uniq()}@example.com`));
      expect(someone.status, path).toBe(403);
    }
  });

  it("streams both files to an admin as attachments that are never cached", async () => {
    const headers = await sessionCookie(ADMIN_EMAIL);
    const json = await fetch(`${app.url}/api/admin/export/json?keys=clear`, { headers });
    expect(json.status).toBe(200);
    expect(json.headers.get("content-disposition")).toMatch(/^attachment; filename="keystead-export-.*\.json"$/);
    expect(json.headers.get("cache-control")).toBe("no-store");
    const doc = await json.json();
    expect(doc.tables.licenses.length).toBe(await tableCount(licenses));
    for (const l of doc.tables.licenses) expect(l.key).toBe(keys.get(l.id));
    expect(doc.tables.licenses.find((l: { id: string }) => l.id === trickyLicenseId).key).toBe(keys.get(trickyLicenseId));

    const csv = await fetch(`${app.url}/api/admin/export/licenses-csv`, { headers });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const rows = parseCsv(await csv.text());
    expect(rows.length - 1).toBe(await tableCount(licenses));
  });

  it("releases its database connection when the reader goes away mid-download", async () => {
    // Enough data (~20 MB of event payloads) that the download is still in its snapshot when we stop reading.
    const filler = "x".repeat(64 * 1024);
    await database.db
      .insert(stripeEvents)
      .values(Array.from({ length: 300 }, (_, i) => ({ id: `evt_fat_${i}_${uniq()}`, type: "fat", stripeCreatedAt: new Date(), payload: { filler } })));
    const inTransaction = async () =>
      (
        await database.db.execute<{ n: number }>(
          sql`select count(*)::int as n from pg_stat_activity
              where datname = current_database() and state like 'idle in transaction%' and pid <> pg_backend_pid()`,
        )
      ).rows[0]!.n;
    const waitFor = async (ok: (n: number) => boolean, what: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const n = await inTransaction();
        if (ok(n)) return;
        if (Date.now() > deadline) throw new Error(`${what} (${n} connections idle in transaction)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const headers = await sessionCookie(ADMIN_EMAIL);
    const controller = new AbortController();
    const res = await fetch(`${app.url}/api/admin/export/json`, { headers, signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    // The reader is slow, so the export waits between batches with its snapshot open...
    await waitFor((n) => n >= 1, "the export should be paused inside its snapshot");
    controller.abort();
    await reader.closed.catch(() => undefined);
    // ...and when the reader goes away, the snapshot ends and the connection goes back to the pool.
    await waitFor((n) => n === 0, "the export's transaction should have ended");
  });
});
