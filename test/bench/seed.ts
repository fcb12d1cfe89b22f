// Seeds a database with N licenses for the benchmarks: `npm run seed:bench -- <count> [DATABASE_URL]`.
// Keys are derived from their index (benchKey(i)), so the load generator can ask for any of them without a file.
import crypto from "node:crypto";
import { Client } from "pg";
import { createPool } from "@/server/db/client";
import { migrate } from "@/server/db/migrate";
import { hashLicenseKey, licenseKeyHint, formatLicenseKey } from "@/server/domain/licensing/license-key";
import { seal } from "@/server/domain/secret-box";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BATCH = 10_000;

/** The i-th benchmark key: 125 bits of sha256("keystead-bench:i") in the contract's format. */
export function benchKey(i: number): string {
  const digest = crypto.createHash("sha256").update(`keystead-bench:${i}`).digest();
  let bits = 0n;
  for (const b of digest.subarray(0, 16)) bits = (bits << 8n) | BigInt(b);
  bits >>= 3n;
  let out = "";
  for (let c = 0; c < 25; c++) {
    out = ALPHABET[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return formatLicenseKey(out);
}

/** The server the benchmarks create their databases on. */
export const benchServerUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The URL of database `name` on the bench server, created if missing (kept between runs). */
export async function benchDatabase(name: string): Promise<string> {
  const c = new Client({ connectionString: benchServerUrl });
  await c.connect();
  try {
    const { rowCount } = await c.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await c.query(`create database "${name}"`);
  } finally {
    await c.end();
  }
  const u = new URL(benchServerUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Tops the database up to `total` benchmark licenses (idempotent: reruns add only what is missing). */
export async function seedLicenses(url: string, total: number, log = console.log) {
  const pool = createPool(url, 2);
  try {
    await migrate(pool);
    const product = await pool.query(
      `insert into products (slug, name) values ('bench', 'Bench') on conflict (slug) do update set name = excluded.name returning id`,
    );
    const plan = await pool.query(
      `insert into plans (product_id, slug, name, seats, entitlements) values ($1, 'bench', 'Bench', 5, '{pro}')
       on conflict (slug) do update set name = excluded.name returning id`,
      [product.rows[0].id],
    );
    const planId: string = plan.rows[0].id;
    const { rows } = await pool.query(`select count(*)::int as n from licenses where source = 'import'`);
    let have: number = rows[0].n;
    const started = Date.now();
    while (have < total) {
      const n = Math.min(BATCH, total - have);
      const emails: string[] = [];
      const hashes: string[] = [];
      const hints: string[] = [];
      const sealed: string[] = [];
      for (let i = have; i < have + n; i++) {
        const key = benchKey(i);
        emails.push(`bench-${i}@example.com`);
        hashes.push(hashLicenseKey(key)!);
        hints.push(licenseKeyHint(key));
        sealed.push(seal("license-key", key));
      }
      const client = await pool.connect();
      try {
        await client.query("begin");
        const customers = await client.query(
          `insert into customers (email) select unnest($1::text[]) returning id`,
          [emails],
        );
        await client.query(
          `insert into licenses (key_hash, key_hint, key_ciphertext, customer_id, plan_id, max_activations, source)
           select h, k, c, cu, $5, 5, 'import' from unnest($1::text[], $2::text[], $3::text[], $4::uuid[]) as t(h, k, c, cu)`,
          [hashes, hints, sealed, customers.rows.map((r) => r.id), planId],
        );
        await client.query("commit");
      } catch (err) {
        await client.query("rollback");
        throw err;
      } finally {
        client.release();
      }
      have += n;
      if (have % 100_000 === 0 || have === total) log(`  seeded ${have.toLocaleString("en")} licenses (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    await pool.query("analyze licenses; analyze customers");
  } finally {
    await pool.end();
  }
}

/** The fingerprint of the one machine activated on each of the first licenses (`seedActivations`). */
export const BENCH_FINGERPRINT = "bench-machine";

/**
 * Activates BENCH_FINGERPRINT on benchmark licenses 0..count-1 (idempotent), so the bench's activate calls
 * are the common case of a machine activating again: a last-seen write and a fresh token.
 */
export async function seedActivations(url: string, count: number) {
  const pool = createPool(url, 1);
  try {
    const emails = Array.from({ length: count }, (_, i) => `bench-${i}@example.com`);
    await pool.query(
      `insert into activations (license_id, fingerprint)
       select l.id, $2 from licenses l join customers c on c.id = l.customer_id where c.email = any($1::text[])
       on conflict (license_id, fingerprint) do nothing`,
      [emails, BENCH_FINGERPRINT],
    );
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  const total = Number(process.argv[2] ?? 100_000);
  const url = process.argv[3] ?? process.env.DATABASE_URL;
  if (!url) {
    console.error("usage: npm run seed:bench -- <count> <DATABASE_URL>");
    process.exit(1);
  }
  seedLicenses(url, total).then(() => process.exit(0), (err) => {
    console.error(err);
    process.exit(1);
  });
}
