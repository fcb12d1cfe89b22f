import path from "node:path";

/** Where the SQL migrations live (./drizzle beside the app); a module of its own so readers need no migrator. */
export function migrationsFolder() {
  return process.env.KEYSTEAD_MIGRATIONS_DIR ?? path.join(process.cwd(), "drizzle");
}
