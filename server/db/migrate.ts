import { migrate as drizzleMigrate } from "drizzle-orm/node-postgres/migrator";
import { drizzle } from "drizzle-orm/node-postgres";
import { runMigrations as workerMigrations } from "graphile-worker";
import type { Pool } from "pg";
import { migrationsFolder } from "./migrations-folder";

export { migrationsFolder };

/**
 * Applies the app's SQL migrations (./drizzle) and graphile-worker's own schema. Safe to run from several
 * processes at once: both take an advisory lock, and a second run is a no-op.
 */
export async function migrate(pool: Pool) {
  const client = await pool.connect();
  try {
    // One migrator at a time across processes (web + worker starting together).
    await client.query("select pg_advisory_lock(72616)");
    await drizzleMigrate(drizzle({ client }), { migrationsFolder: migrationsFolder() });
  } finally {
    await client.query("select pg_advisory_unlock(72616)").catch(() => undefined);
    client.release();
  }
  await workerMigrations({ pgPool: pool });
}
