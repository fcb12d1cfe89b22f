// `npm run worker`: the job runner alone, for scaling it out beside web-only (WORKER=off) replicas.
import { bootOrExit } from "@/server/boot";
import { closeDb, pool } from "@/server/db/client";
import { startWorker } from "./worker";
import { keepHeapNearLive } from "@/server/observability/heap";
import { logger } from "@/server/observability/log";

keepHeapNearLive();

/** How long running jobs may take to finish after SIGTERM before the process gives up on them (exit 1). */
const SHUTDOWN_BOUND_MS = 15_000;

async function main() {
  await bootOrExit();
  const runner = await startWorker(pool());
  let closing = false;
  // SIGTERM/SIGINT: take no new job, let running ones finish (graphile-worker's own handler starts that too, and
  // re-raises the signal once they have: only the first one counts here), close the pool, exit 0. A job still
  // running at the bound is released by graphile-worker's abort and retried by another worker.
  const close = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger().info(`[keystead] ${signal}: finishing running jobs, then exiting`);
    const force = setTimeout(() => {
      logger().error(`[keystead] jobs still running after ${SHUTDOWN_BOUND_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_BOUND_MS);
    force.unref();
    void (async () => {
      await runner.stop().catch(() => undefined);
      await runner.promise.catch(() => undefined);
      await closeDb().catch(() => undefined);
      process.exit(0);
    })();
  };
  process.on("SIGTERM", close);
  process.on("SIGINT", close);
  await runner.promise;
  // The runner stopped by itself (not a signal): wait for a shutdown in progress, else exit as before.
  if (!closing) process.exit(0);
}

main().catch((err) => {
  logger().fatal(`[keystead] worker failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
