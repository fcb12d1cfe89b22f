import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { inject } from "vitest";
import { createPool, dbFromPool, type Db } from "@/server/db/client";
import { migrate } from "@/server/db/migrate";
import type { Pool } from "pg";

/** How many migrations drizzle/ holds: what a fully migrated database has recorded, each once. */
export function migrationCount(): number {
  const journal = JSON.parse(fs.readFileSync(path.join(process.cwd(), "drizzle/meta/_journal.json"), "utf8")) as { entries: unknown[] };
  return journal.entries.length;
}

export type TestDb = { url: string; pool: Pool; db: Db; drop: () => Promise<void> };

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh database on the test server, migrated unless `migrate: false` (for tests of migrating itself);
 * `drop()` removes it.
 */
export async function createTestDatabase(prefix = "ks", opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const base = inject("pgBaseUrl");
  const name = `${prefix}_${Date.now().toString(36)}_${crypto.randomBytes(3).toString("hex")}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();

  const url = withDatabase(base, name);
  const pool = createPool(url, 10);
  if (opts.migrate !== false) await migrate(pool);
  return {
    url,
    pool,
    db: dbFromPool(pool),
    drop: async () => {
      await pool.end();
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

/**
 * Points this test process's own settings and global pool at a test database, for tests that call worker
 * tasks or domain code that uses the process-wide db().
 */
export async function useProcessDatabase(url: string, extraEnv: Record<string, string> = {}) {
  const { resetEnvCache } = await import("@/server/env");
  const { closeDb } = await import("@/server/db/client");
  await closeDb();
  process.env.DATABASE_URL = url;
  process.env.AUTH_SECRET ??= "test-secret-test-secret-test-secret";
  Object.assign(process.env, extraEnv);
  resetEnvCache();
}
