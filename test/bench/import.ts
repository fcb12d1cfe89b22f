// `npm run bench:import [-- <count>]`: imports <count> (default 100,000) Lemon Squeezy licenses, half of them with an
// activation, into a fresh database through the same path as the worker (startImport then runImportJob), and
// prints the time and rows/s. The goal: 100,000 licenses in under a minute.
import crypto from "node:crypto";
import { Client } from "pg";

process.env.AUTH_SECRET ??= "bench-auth-secret-0123456789abcdef";
const count = Number(process.argv[2] ?? 100_000);
const server = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function freshDatabase(name: string) {
  const c = new Client({ connectionString: server });
  await c.connect();
  await c.query(`drop database if exists "${name}" with (force)`);
  await c.query(`create database "${name}"`);
  await c.end();
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A Lemon Squeezy `GET /v1/license-keys?include=license-key-instances` answer with `n` keys. */
function lemonSqueezyDocument(n: number): string {
  const data: unknown[] = [];
  const included: unknown[] = [{ type: "products", id: "1", attributes: { name: "Bench app" } }];
  for (let i = 1; i <= n; i++) {
    data.push({
      type: "license-keys",
      id: String(i),
      attributes: {
        store_id: 1,
        customer_id: i,
        order_id: i,
        order_item_id: i,
        product_id: 1,
        user_name: `Buyer ${i}`,
        user_email: `buyer-${i}@example.com`,
        key: crypto.randomUUID(),
        activation_limit: 3,
        instances_count: i % 2,
        disabled: false,
        status: i % 2 ? "active" : "inactive",
        expires_at: null,
        created_at: "2024-01-01T00:00:00.000000Z",
        updated_at: "2024-01-01T00:00:00.000000Z",
      },
    });
    if (i % 2) {
      included.push({
        type: "license-key-instances",
        id: String(i),
        attributes: { license_key_id: i, identifier: crypto.randomUUID(), name: `Machine ${i}`, created_at: "2024-01-02T00:00:00.000000Z", updated_at: "2024-01-02T00:00:00.000000Z" },
        relationships: { "license-key": { data: { type: "license-keys", id: String(i) } } },
      });
    }
  }
  return JSON.stringify({ data, included });
}

async function main() {
  const { createPool, dbFromPool } = await import("@/server/db/client");
  const { migrate } = await import("@/server/db/migrate");
  const { products, plans, licenses, activations } = await import("@/server/db/schema");
  const { startImport, runImportJob } = await import("@/server/domain/import");
  const { SYSTEM } = await import("@/server/domain/audit/record");
  const { count: countRows } = await import("drizzle-orm");

  const pool = createPool(await freshDatabase("keystead_bench_import"), 4);
  await migrate(pool);
  const db = dbFromPool(pool);
  const [product] = await db.insert(products).values({ slug: "bench", name: "Bench" }).returning();
  await db.insert(plans).values({ productId: product!.id, slug: "bench-pro", name: "Pro", seats: 3 });
  const text = lemonSqueezyDocument(count);
  console.log(`file: ${count.toLocaleString()} licenses, ${(text.length / 1e6).toFixed(1)} MB`);

  const started = performance.now();
  const queued = await startImport(db, SYSTEM, { format: "lemonsqueezy", plan: "bench-pro", async: true }, text);
  const queuedAt = performance.now();
  const done = await runImportJob(db, queued.body.importId!, SYSTEM);
  const seconds = (performance.now() - started) / 1000;

  const [l] = await db.select({ n: countRows() }).from(licenses);
  const [a] = await db.select({ n: countRows() }).from(activations);
  if (done.import.status !== "done" || l!.n !== count) throw new Error(`import ended ${done.import.status} with ${l!.n} licenses`);
  console.log(`dry run + upload: ${((queuedAt - started) / 1000).toFixed(1)} s; import job: ${((performance.now() - queuedAt) / 1000).toFixed(1)} s`);
  console.log(`imported ${l!.n.toLocaleString()} licenses and ${a!.n.toLocaleString()} activations in ${seconds.toFixed(1)} s (${Math.round(count / seconds).toLocaleString()} rows/s)`);
  console.log(seconds < 60 ? "goal met: under 60 s" : "goal MISSED: 60 s or more");
  await pool.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
