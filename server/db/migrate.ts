import fs from "node:fs";
import path from "node:path";
import { migrate as drizzleMigrate } from "drizzle-orm/node-postgres/migrator";
import { drizzle } from "drizzle-orm/node-postgres";
import { runMigrations as workerMigrations } from "graphile-worker";
import type { Pool, PoolClient } from "pg";
import { migrationsFolder } from "./migrations-folder";

export { migrationsFolder };

/** Held while drizzle applies the transactional migrations (a blocking wait is fine there). */
const MIGRATE_LOCK = 72616;
/** Held while the steps outside a transaction run (taken by polling: see runOutsideTransactionSteps). */
const CONCURRENT_LOCK = 72617;
const BREAKPOINT = "--> statement-breakpoint";

/**
 * Applies the app's SQL migrations (./drizzle) and graphile-worker's own schema. Safe to run from several
 * processes at once: each pass takes an advisory lock, and a second run is a no-op.
 *
 * Two passes (README, "Upgrades"):
 * 1. drizzle's migrator applies every pending `NNNN_<what>.sql` in one transaction: all or nothing.
 * 2. For each migration, in journal order, `NNNN_<what>.concurrently.sql` (if there is one) runs statement by
 *    statement outside any transaction, once: what PostgreSQL refuses inside one, chiefly
 *    `CREATE INDEX CONCURRENTLY`, which builds an index on a big table without blocking its writes.
 */
export async function migrate(pool: Pool, opts: { folder?: string } = {}) {
  const folder = opts.folder ?? migrationsFolder();
  const client = await pool.connect();
  try {
    // One migrator at a time across processes (web + worker starting together).
    await client.query("select pg_advisory_lock($1)", [MIGRATE_LOCK]);
    try {
      await drizzleMigrate(drizzle({ client }), { migrationsFolder: folder });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATE_LOCK]).catch(() => undefined);
    }
    await runOutsideTransactionSteps(client, folder);
  } finally {
    client.release();
  }
  await workerMigrations({ pgPool: pool });
}

/** The `.concurrently.sql` companions of the journal's migrations, in journal order. */
export function outsideTransactionSteps(folder: string): { tag: string; statements: string[] }[] {
  const journal = JSON.parse(fs.readFileSync(path.join(folder, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  return journal.entries.flatMap(({ tag }) => {
    const file = path.join(folder, `${tag}.concurrently.sql`);
    if (!fs.existsSync(file)) return [];
    const statements = fs
      .readFileSync(file, "utf8")
      .split(BREAKPOINT)
      .map((s) => s.trim())
      .filter((s) => s.replace(/--.*$/gm, "").trim() !== "");
    return [{ tag, statements }];
  });
}

/**
 * Pass 2. The lock is taken with pg_try_advisory_lock in a loop, never a blocking pg_advisory_lock: a
 * CREATE INDEX CONCURRENTLY waits for every transaction in the database that holds a snapshot, and a second
 * process blocked in pg_advisory_lock holds one while it waits, which would deadlock the two. A step is recorded
 * only once all its statements ran; a build that failed half-way leaves an INVALID index, which is dropped
 * before the step runs again (so write such steps with IF NOT EXISTS, and they can be re-run).
 */
async function runOutsideTransactionSteps(client: PoolClient, folder: string) {
  const steps = outsideTransactionSteps(folder);
  if (steps.length === 0) return;
  while (!(await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [CONCURRENT_LOCK])).rows[0]!.ok) {
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    await client.query(
      `create table if not exists drizzle.keystead_outside_transaction_steps (tag text primary key, applied_at timestamptz not null default now())`,
    );
    const done = new Set(
      (await client.query<{ tag: string }>("select tag from drizzle.keystead_outside_transaction_steps")).rows.map((r) => r.tag),
    );
    for (const step of steps) {
      if (done.has(step.tag)) continue;
      for (const statement of step.statements) {
        await dropInvalidIndex(client, statement);
        await client.query(statement);
      }
      await client.query("insert into drizzle.keystead_outside_transaction_steps (tag) values ($1)", [step.tag]);
    }
  } finally {
    await client.query("select pg_advisory_unlock($1)", [CONCURRENT_LOCK]).catch(() => undefined);
  }
}

const CONCURRENT_INDEX = /create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[\w$]+)/i;

/** An earlier, interrupted CREATE INDEX CONCURRENTLY of this name left an invalid index: drop it so it is built again. */
async function dropInvalidIndex(client: PoolClient, statement: string) {
  const m = statement.match(CONCURRENT_INDEX);
  if (!m) return;
  const name = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!.toLowerCase();
  const invalid = await client.query(
    `select 1 from pg_index i join pg_class c on c.oid = i.indexrelid
      where c.relname = $1 and c.relnamespace = 'public'::regnamespace and not i.indisvalid`,
    [name],
  );
  if (invalid.rowCount) await client.query(`drop index concurrently if exists public."${name.replaceAll('"', '""')}"`);
}
