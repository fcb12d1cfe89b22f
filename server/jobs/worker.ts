import { Logger, parseCrontab, run, type Runner } from "graphile-worker";
import type { Pool } from "pg";
import { endedByServer } from "@/server/db/client";
import { env } from "@/server/env";
import { taskList } from "./tasks";
import { crontab } from "./crontab";

/** What /api/health reports about this process's job runner. */
export type WorkerState = "not started" | "starting" | "running" | "stopped" | "failed";

const holder = globalThis as unknown as { __keysteadWorker?: Promise<Runner>; __keysteadWorkerState?: WorkerState };

/**
 * Starts the job runner on the app's pool. Idempotent per process: Next may evaluate instrumentation more
 * than once in development, and a second runner would double every poll. A runner that fails to start, or
 * stops later, is recorded so that health stops saying "ok".
 */
export function startWorker(pool: Pool): Promise<Runner> {
  if (holder.__keysteadWorker) return holder.__keysteadWorker;
  holder.__keysteadWorkerState = "starting";
  holder.__keysteadWorker = run({
    pgPool: pool,
    taskList,
    // Always pass parsed items: an empty crontab string would make graphile-worker look for a ./crontab file.
    parsedCronItems: parseCrontab(crontab),
    // Jobs mostly wait on the network (Stripe, SMTP); eight at once keeps a burst of checkouts moving
    // while leaving most of the pool's connections to the web side.
    concurrency: 8,
    pollInterval: env().WORKER_POLL_INTERVAL_MS,
    noHandleSignals: false,
    logger: quietWhenServerEndsConnections,
  }).then(
    (runner) => {
      holder.__keysteadWorkerState = "running";
      console.log("[keystead] worker started");
      if (!env().STRIPE_SECRET_KEY) {
        console.warn("[keystead] Stripe keys not set: checkouts cannot be processed until STRIPE_SECRET_KEY is set");
      }
      runner.promise.then(
        () => (holder.__keysteadWorkerState = "stopped"),
        (err: unknown) => {
          holder.__keysteadWorkerState = "failed";
          console.error(`[keystead] worker stopped on an error: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
      return runner;
    },
    (err: unknown) => {
      holder.__keysteadWorkerState = "failed";
      console.error(`[keystead] worker failed to start: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    },
  );
  return holder.__keysteadWorker;
}

/**
 * graphile-worker's console format (its default logger is not exported), with one change: its listening
 * connection being ended by PostgreSQL (a shutdown: see endedByServer), and what follows from that alone, is
 * not an error. If the database stays away, the reconnect attempts' own errors still show.
 */
const quietWhenServerEndsConnections = new Logger(
  (scope) => (level, message, meta) => {
    if (level === "debug" || endedByServer(meta?.error) || notQueryable(meta?.error)) return;
    const job = scope.workerId ? `(${scope.workerId}${scope.taskIdentifier ? `: ${scope.taskIdentifier}` : ""}${scope.jobId ? `{${scope.jobId}}` : ""})` : "";
    const line = `[${scope.label ?? "core"}${job}] ${level.toUpperCase()}: ${message}`;
    if (level === "error") console.error(line);
    else if (level === "warning") console.warn(line);
    else console.log(line);
  },
);

/** pg's answer on a client whose connection already failed (graphile-worker's UNLISTEN at shutdown): that failure was the news. */
const notQueryable = (err: unknown) => err instanceof Error && err.message === "Client has encountered a connection error and is not queryable";

export function workerState(): WorkerState {
  return holder.__keysteadWorkerState ?? "not started";
}
