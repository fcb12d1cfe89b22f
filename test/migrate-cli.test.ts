import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createTestDatabase, migrationCount, type TestDb } from "./helpers/db";
import { freePort } from "./helpers/ports";
import { runToExit, tsxCli } from "./helpers/processes";

const migrateCli = [tsxCli, "server/db/migrate-cli.ts"];

describe("npm run migrate", () => {
  const dbs: TestDb[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  it("migrates an empty database without AUTH_SECRET, and a second run changes nothing", async () => {
    const database = await createTestDatabase("migratecli", { migrate: false });
    dbs.push(database);
    const tables = async () =>
      (
        await database.db.execute(
          sql`select table_schema || '.' || table_name as t from information_schema.tables where table_schema in ('public', 'graphile_worker', 'drizzle') order by 1`,
        )
      ).rows.map((r) => r.t as string);
    expect(await tables()).toEqual([]);

    // Production, and nothing but DATABASE_URL: a deploy step that migrates before the app starts.
    const first = await runToExit(migrateCli, { NODE_ENV: "production", DATABASE_URL: database.url });
    expect(first.output.trim()).toMatch(/^\[keystead\] migrations applied to 127\.0\.0\.1:\d+\/migratecli_\w+$/);
    expect(first.code).toBe(0);
    const after = await tables();
    expect(after).toEqual(expect.arrayContaining(["public.licenses", "public.sessions", "public.app_state", "graphile_worker.jobs", "drizzle.__drizzle_migrations"]));
    const applied = async () => (await database.db.execute(sql`select id, hash, created_at from drizzle.__drizzle_migrations order by id`)).rows;
    const once = await applied();
    expect(once).toHaveLength(migrationCount());
    const workerMigrations = async () => (await database.db.execute(sql`select id from graphile_worker.migrations order by id`)).rows;
    const workerOnce = await workerMigrations();
    expect(workerOnce.length).toBeGreaterThan(0);

    const second = await runToExit(migrateCli, { NODE_ENV: "production", DATABASE_URL: database.url });
    expect(second.code).toBe(0);
    expect(await applied()).toEqual(once);
    expect(await workerMigrations()).toEqual(workerOnce);
    expect(await tables()).toEqual(after);
  });

  it("fails with one line when the database cannot be reached, and with the setting's line when it is bad", async () => {
    const nobody = await freePort();
    const unreachable = await runToExit(migrateCli, { DATABASE_URL: `postgres://postgres:hunter2-secret@127.0.0.1:${nobody}/keystead` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.output.trim()).toBe(`[keystead] migrate failed: connect ECONNREFUSED 127.0.0.1:${nobody}`);

    const bad = await runToExit(migrateCli, { DATABASE_URL: "mysql://127.0.0.1/keystead" });
    expect(bad.code).toBe(1);
    expect(bad.output.trim()).toBe("Invalid setting DATABASE_URL: must be a URL starting with postgres: or postgresql://");

    const unset = await runToExit(migrateCli, {});
    expect(unset.code).toBe(1);
    expect(unset.output.trim()).toMatch(/^Invalid setting DATABASE_URL: not set/);
  });
});
