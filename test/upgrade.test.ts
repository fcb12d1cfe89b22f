import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "@/server/db/migrate";
import { generateLicenseKey, sealLicenseKey } from "@/server/domain/licensing/license-key";
import { validateLicense } from "@/server/domain/licensing/validate";
import { createTestDatabase, migrationCount, type TestDb } from "./helpers/db";

/**
 * Upgrades (README "Upgrades"): a database on the previous release's schema, with data in it, is migrated by
 * this release's `migrate` and keeps every row, readable by today's code.
 *
 * "The previous release" is 0.1.0: migrations 0000..0007. Their files are what 0.1.0 databases recorded, so
 * they must never change (drizzle would not run an edited file again on a database that has it): the first test
 * pins their hashes, and that journal times only move forward (drizzle skips an entry older than the newest
 * applied one, silently).
 */
const RELEASED: Record<string, string> = {
  "0000_init": "1e8777a2811e6b6de46e5275d55605be49b7da88719269391312534f8eeb38b9",
  "0001_license_listing_index": "3dfdbaebbc25d6932aa7cc2d772fac5314eb5f233d8c337df08ef4ae896daa8b",
  "0002_license_subscription_fields": "5c64113a28ff618743e1d166dce53ce0f930af8614c4fb7f1735c56bad559f0d",
  "0003_lifecycle_admin_and_auth": "96c6115e7dd521483f59d25a264941c5edb22bf9e6b28eb9471d2d4bba5f8011",
  "0004_live_expiry_index": "78ff47206be29435655c30200ebc01fa7a7044f5f8a381c9abc003580a3bb5d7",
  "0005_hashed_sessions": "b86cd0591c14123ba86c683077e52ddbf19c0e6ba21c088bc991de77ce26791f",
  "0006_customer_stripe_observed_at": "03cf9711734a1bcfec8fa8b15a8165758611ba97dd8cb9c850d19067f686c701",
  "0007_plan_air_gapped_ttl": "b5d4f21ee990b4b732092812b2d3b3d2f0f8f6af7b08f661ae5d35f1c1f62fae",
};
const DRIZZLE = path.join(process.cwd(), "drizzle");
type Journal = { entries: { idx: number; tag: string; when: number }[] };
const journal = (): Journal => JSON.parse(fs.readFileSync(path.join(DRIZZLE, "meta/_journal.json"), "utf8"));

/** A migrations folder holding only 0.1.0's migrations, as a 0.1.0 install had it. */
function previousReleaseFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-0.1.0-"));
  fs.mkdirSync(path.join(dir, "meta"));
  const j = journal();
  const entries = j.entries.filter((e) => e.tag in RELEASED);
  for (const e of entries) fs.copyFileSync(path.join(DRIZZLE, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
  fs.writeFileSync(path.join(dir, "meta/_journal.json"), JSON.stringify({ ...j, entries }));
  return dir;
}

describe("upgrading from the previous release", () => {
  let database: TestDb | undefined;
  afterAll(async () => database?.drop());

  it("never changes a released migration, and journal times only move forward", () => {
    const entries = journal().entries;
    for (const [tag, hash] of Object.entries(RELEASED)) {
      expect(crypto.createHash("sha256").update(fs.readFileSync(path.join(DRIZZLE, `${tag}.sql`))).digest("hex"), tag).toBe(hash);
    }
    entries.forEach((e, i) => {
      if (i > 0) expect(e.when, `${e.tag} must be newer than ${entries[i - 1]!.tag}`).toBeGreaterThan(entries[i - 1]!.when);
    });
  });

  it("migrates a 0.1.0 database with data in it and keeps every row", async () => {
    database = await createTestDatabase("upgrade", { migrate: false });
    const { pool } = database;
    await migrate(pool, { folder: previousReleaseFolder() });
    expect((await pool.query("select count(*)::int as n from drizzle.__drizzle_migrations")).rows[0].n).toBe(8);

    // Data as 0.1.0 wrote it: plain SQL against 0.1.0's columns (today's code may write columns 0.1.0 lacked).
    const product = (await pool.query(`insert into products (slug, name) values ('acme', 'Acme') returning id`)).rows[0].id;
    const plan = (
      await pool.query(
        `insert into plans (product_id, slug, name, seats, duration_days, entitlements) values ($1, 'acme-pro', 'Pro', 3, null, '{export}') returning id`,
        [product],
      )
    ).rows[0].id;
    await pool.query(`insert into plan_prices (stripe_price_id, plan_id) values ('price_upgrade', $1)`, [plan]);
    const keys: string[] = [];
    for (let i = 0; i < 40; i++) {
      const customer = (
        await pool.query(`insert into customers (email, stripe_customer_id) values ($1, $2) returning id`, [`c${i}@example.com`, `cus_up_${i}`])
      ).rows[0].id;
      const key = generateLicenseKey();
      keys.push(key);
      const sealed = sealLicenseKey(key);
      const license = (
        await pool.query(
          `insert into licenses (key_hash, key_hint, key_ciphertext, customer_id, plan_id, status, max_activations, source,
             stripe_checkout_session_id, stripe_line_item_id, stripe_price_id)
           values ($1, $2, $3, $4, $5, $6, 3, 'stripe', $7, $8, 'price_upgrade') returning id`,
          [sealed.keyHash, sealed.keyHint, sealed.keyCiphertext, customer, plan, i % 10 === 9 ? "suspended" : "active", `cs_up_${i}`, `li_up_${i}`],
        )
      ).rows[0].id;
      for (let a = 0; a < 2; a++) {
        await pool.query(`insert into activations (license_id, fingerprint, name, platform) values ($1, $2, 'Laptop', 'linux')`, [license, `fp-${i}-${a}`]);
      }
      await pool.query(
        `insert into stripe_events (id, type, stripe_created_at, object_id, payload, status, attempts, processed_at)
         values ($1, 'checkout.session.completed', now(), $2, $3, 'processed', 1, now())`,
        [`evt_up_${i}`, `cs_up_${i}`, JSON.stringify({ id: `evt_up_${i}`, data: { object: { id: `cs_up_${i}` } } })],
      );
    }
    const snapshot = async () => ({
      licenses: (await pool.query(`select id, key_hash, key_hint, key_ciphertext, customer_id, plan_id, status, max_activations, expires_at from licenses order by id`)).rows,
      activations: (await pool.query(`select id, license_id, fingerprint, name, platform from activations order by id`)).rows,
      events: (await pool.query(`select id, type, status, attempts, payload from stripe_events order by id`)).rows,
      customers: (await pool.query(`select id, email, stripe_customer_id from customers order by id`)).rows,
      plans: (await pool.query(`select id, slug, seats, entitlements from plans order by id`)).rows,
    });
    const before = await snapshot();
    expect(before.licenses).toHaveLength(40);
    expect(before.activations).toHaveLength(80);

    // This release's migrate, from that state: every later migration (and any step outside a transaction).
    await migrate(pool);
    expect((await pool.query("select count(*)::int as n from drizzle.__drizzle_migrations")).rows[0].n).toBe(migrationCount());
    expect(await snapshot()).toEqual(before);

    // Today's code reads 0.1.0's rows: a key issued then validates now, with its activation.
    const ok = await validateLicense(database.db, { key: keys[0]!, fingerprint: "fp-0-1" });
    expect(ok).toMatchObject({ valid: true, code: "VALID", activation: { fingerprint: "fp-0-1" } });
    const suspended = await validateLicense(database.db, { key: keys[9]! });
    expect(suspended).toMatchObject({ valid: false, code: "SUSPENDED" });

    // Running it again is a no-op.
    await migrate(pool);
    expect((await pool.query("select count(*)::int as n from drizzle.__drizzle_migrations")).rows[0].n).toBe(migrationCount());
    expect(await snapshot()).toEqual(before);
  });
});
