import path from "node:path";
import { EnvError, env, resetEnvCache } from "@/server/env";
import { closeDb, db, pool } from "@/server/db/client";
import { migrate } from "@/server/db/migrate";
import { releaseWaitingEmails } from "@/server/domain/mail/waiting";
import { SealedUnderAnotherSecretError } from "@/server/domain/secret-box";
import { activeSigningKey, ensureSigningKey } from "@/server/domain/tokens/keyring";
import { onShutdown, shutdownHooksRun } from "@/server/http/shutdown";
import { logger } from "@/server/observability/log";

const holder = globalThis as unknown as { __keysteadBoot?: Promise<void> };

/**
 * Everything a process needs before it serves or works: valid settings, a database (embedded when
 * DATABASE_URL is unset), migrations applied, a signing key this AUTH_SECRET opens, and the emails that waited
 * for a provider queued once one is configured. Runs once per process.
 */
export function boot(): Promise<void> {
  holder.__keysteadBoot ??= doBoot();
  return holder.__keysteadBoot;
}

async function doBoot() {
  // Validate before anything else so a bad setting is the first and only thing the operator reads.
  env();
  if (!env().DATABASE_URL) {
    const { startEmbeddedPostgres } = await import("@/server/db/embedded");
    const dataDir = path.resolve(env().DATA_DIR);
    // Registered first, so it runs last on SIGTERM: after the worker's jobs and the pool have finished with it.
    const onStop = shutdownHooksRun() ? (stop: () => Promise<void>) => onShutdown(stop) : undefined;
    process.env.DATABASE_URL = await startEmbeddedPostgres(dataDir, onStop);
    resetEnvCache();
    await closeDb();
    logger().info(`[keystead] using the embedded PostgreSQL in ${path.join(dataDir, "postgres")} (set DATABASE_URL to use your own)`);
  }
  await migrate(pool());
  await ensureSigningKey(db());
  await checkSigningKeyOpens();
  await releaseWaitingEmails(db());
}

/**
 * A changed AUTH_SECRET would otherwise surface as a 500 on every activation: stop at start-up instead, naming both
 * settings that fix it.
 */
async function checkSigningKeyOpens() {
  try {
    await activeSigningKey(db());
  } catch (err) {
    if (!(err instanceof SealedUnderAnotherSecretError)) throw err;
    throw new EnvError(
      "AUTH_SECRET",
      "the stored signing key was sealed under another secret: restore the old AUTH_SECRET, or set AUTH_SECRET_PREVIOUS to it (then run npm run reseal)",
    );
  }
}

/** Start-up for a process: on a bad setting, print one line naming it and exit. */
export async function bootOrExit(): Promise<void> {
  try {
    await boot();
  } catch (err) {
    if (err instanceof EnvError) {
      // A plain line, as for any bad setting: the one thing the operator must read.
      console.error(err.message);
    } else {
      logger().fatal(`[keystead] start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.exit(1);
  }
}
