import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate, outsideTransactionSteps } from "@/server/db/migrate";
import { createTestDatabase, type TestDb } from "./helpers/db";

/**
 * A migration's `.concurrently.sql` companion (README "Upgrades") runs outside drizzle's transaction, so it can
 * build an index on a big table with CREATE INDEX CONCURRENTLY while the app keeps writing to that table.
 */

/** Today's migrations plus one more, whose index is built concurrently. */
function folderWithStep(tag: string, concurrently: string): string {
  const src = path.join(process.cwd(), "drizzle");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-concurrently-"));
  fs.cpSync(src, dir, { recursive: true });
  const journalPath = path.join(dir, "meta/_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalPath, "utf8"));
  const last = journal.entries.at(-1);
  journal.entries.push({ idx: last.idx + 1, version: last.version, when: last.when + 1, tag, breakpoints: true });
  fs.writeFileSync(journalPath, JSON.stringify(journal));
  // The transactional part may be empty of work; the index is the companion's.
  fs.writeFileSync(path.join(dir, `${tag}.sql`), "SELECT 1;");
  fs.writeFileSync(path.join(dir, `${tag}.concurrently.sql`), concurrently);
  return dir;
}

const indexValid = async (db: TestDb, name: string) =>
  (
    await db.pool.query(`select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = $1`, [name])
  ).rows[0]?.indisvalid as boolean | undefined;

describe("migrations outside a transaction", () => {
  const dbs: TestDb[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  it("builds an index concurrently while writes to the table go on", async () => {
    const db = await createTestDatabase("concurrently");
    dbs.push(db);
    await db.pool.query(
      `insert into stripe_events (id, type, stripe_created_at, payload)
       select 'evt_big_' || g, 'invoice.paid', now() - (g || ' seconds')::interval, '{}'::jsonb from generate_series(1, 50000) g`,
    );
    const folder = folderWithStep(
      "9999_events_type_created",
      `-- Builds without blocking writes to stripe_events.\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "stripe_events_type_created_idx" ON "stripe_events" ("type", "stripe_created_at");`,
    );
    expect(outsideTransactionSteps(folder).map((s) => s.tag)).toEqual(["9999_events_type_created"]);

    // A reader holding a snapshot (a long report, a backup): CREATE INDEX CONCURRENTLY waits for it to finish
    // before it is done, which keeps the build in progress long enough to write beside it.
    const reader = new Client({ connectionString: db.url });
    await reader.connect();
    await reader.query("begin isolation level repeatable read");
    await reader.query("select count(*) from stripe_events");

    const migrating = migrate(db.pool, { folder });
    const writer = new Client({ connectionString: db.url });
    await writer.connect();
    const latencies: number[] = [];
    let writesDuringBuild = 0;
    const until = Date.now() + 1_500;
    for (let i = 0; Date.now() < until; i++) {
      const building = (await writer.query(`select count(*)::int as n from pg_stat_progress_create_index`)).rows[0].n > 0;
      const t = performance.now();
      await writer.query(`insert into stripe_events (id, type, stripe_created_at, payload) values ($1, 'invoice.paid', now(), '{}')`, [`evt_during_${i}`]);
      await writer.query(`update stripe_events set attempts = attempts + 1 where id = 'evt_big_1'`);
      latencies.push(performance.now() - t);
      if (building) writesDuringBuild++;
    }
    expect(await indexValid(db, "stripe_events_type_created_idx")).not.toBe(true);
    await reader.query("commit");
    await reader.end();
    await migrating;
    await writer.end();

    expect(writesDuringBuild).toBeGreaterThan(20);
    expect(Math.max(...latencies)).toBeLessThan(500);
    expect(await indexValid(db, "stripe_events_type_created_idx")).toBe(true);
    const recorded = await db.pool.query(`select tag from drizzle.keystead_outside_transaction_steps`);
    expect(recorded.rows.map((r) => r.tag)).toEqual(["9999_events_type_created"]);
    // Once only: a second run neither rebuilds nor fails.
    await migrate(db.pool, { folder });
    expect((await db.pool.query(`select count(*)::int as n from drizzle.keystead_outside_transaction_steps`)).rows[0].n).toBe(1);
  });

  it("rebuilds an index whose earlier concurrent build failed half-way", async () => {
    const db = await createTestDatabase("concurrently");
    dbs.push(db);
    await db.pool.query(`insert into products (slug, name) values ('a', 'Same'), ('b', 'Same')`);
    const folder = folderWithStep(
      "9999_products_name_unique",
      `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "products_name_unique_idx" ON "products" ("name");`,
    );
    // The duplicate makes the build fail: PostgreSQL leaves an INVALID index behind, and the step is not recorded.
    await expect(migrate(db.pool, { folder })).rejects.toThrow(/could not create unique index/);
    expect(await indexValid(db, "products_name_unique_idx")).toBe(false);
    expect((await db.pool.query(`select count(*)::int as n from drizzle.keystead_outside_transaction_steps`)).rows[0].n).toBe(0);

    // The operator fixes the data and starts again: the invalid index is dropped and built anew (IF NOT EXISTS alone would keep it).
    await db.pool.query(`update products set name = 'Other' where slug = 'b'`);
    await migrate(db.pool, { folder });
    expect(await indexValid(db, "products_name_unique_idx")).toBe(true);
  });
});
