// `npm run migrate`: applies Keystead's migrations (and graphile-worker's schema) to DATABASE_URL, then exits.
// Web and worker also migrate at start; this is for deploy pipelines that migrate first, as a separate step.
// It reads DATABASE_URL alone: migrating seals and signs nothing, so it runs without AUTH_SECRET or Stripe keys.
import { EnvError, parseSetting } from "@/server/env";
import { createPool } from "./client";
import { migrate } from "./migrate";

async function main() {
  const url = parseSetting("DATABASE_URL");
  if (!url) throw new EnvError("DATABASE_URL", "not set (`npm run dev` migrates its embedded PostgreSQL by itself)");
  const pool = createPool(url, 2);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  // Host and database only: the URL may carry a password.
  const { host, pathname } = new URL(url);
  console.log(`[keystead] migrations applied to ${host}${pathname}`);
}

main().catch((err) => {
  console.error(err instanceof EnvError ? err.message : `[keystead] migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
