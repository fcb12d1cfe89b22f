import { parseCrontab, run, type Runner } from "graphile-worker";
import type { Pool } from "pg";
import { env } from "@/server/env";
import { taskList } from "./tasks";
import { crontab } from "./crontab";

const holder = globalThis as unknown as { __keysteadWorker?: Promise<Runner> };

/**
 * Starts the job runner on the app's pool. Idempotent per process: Next may evaluate instrumentation more
 * than once in development, and a second runner would double every poll.
 */
export function startWorker(pool: Pool): Promise<Runner> {
  holder.__keysteadWorker ??= run({
    pgPool: pool,
    taskList,
    // Always pass parsed items: an empty crontab string would make graphile-worker look for a ./crontab file.
    parsedCronItems: parseCrontab(crontab),
    // Jobs mostly wait on the network (Stripe, SMTP); eight at once keeps a burst of checkouts moving
    // while leaving most of the pool's connections to the web side.
    concurrency: 8,
    pollInterval: env().WORKER_POLL_INTERVAL_MS,
    noHandleSignals: false,
  }).then((runner) => {
    console.log("[keystead] worker started");
    return runner;
  });
  return holder.__keysteadWorker;
}

export function workerRunning(): boolean {
  return holder.__keysteadWorker !== undefined;
}
