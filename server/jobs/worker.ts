import { EventEmitter } from "node:events";
import { Logger, parseCrontab, run, type Runner, type WorkerEvents } from "graphile-worker";
import type { Pool } from "pg";
import { endedByServer } from "@/server/db/client";
import { WORKER_HEARTBEAT_KEY, WORKER_HEARTBEAT_MS } from "@/server/domain/health";
import { env } from "@/server/env";
import { errorField, logger } from "@/server/observability/log";
import { metrics } from "@/server/observability/metrics";
import { taskList } from "./tasks";
import { crontab } from "./crontab";
import { setWorkerState, workerState, type WorkerState } from "./state";
import { holdLiveness } from "./liveness";

export { workerState, type WorkerState };

const holder = globalThis as unknown as { __keysteadWorker?: Promise<Runner> };

/**
 * Starts the job runner on the app's pool. Idempotent per process: Next may evaluate instrumentation more
 * than once in development, and a second runner would double every poll. A runner that fails to start, or
 * stops later, is recorded so that health stops saying "ok".
 */
export function startWorker(pool: Pool): Promise<Runner> {
  if (holder.__keysteadWorker) return holder.__keysteadWorker;
  setWorkerState("starting");
  // This process's pool id is what graphile-worker locks jobs with: hold it alive, so that if this process dies
  // the other workers take its jobs over within seconds (./liveness.ts).
  const events: WorkerEvents = new EventEmitter();
  let liveness: ReturnType<typeof holdLiveness> | undefined;
  events.on("pool:create", ({ workerPool }) => {
    liveness = holdLiveness(workerPool.id, pool);
  });
  events.on("pool:release", () => void liveness?.stop());
  events.on("job:start", ({ job }) => liveness?.started(String(job.id)));
  events.on("job:complete", ({ job }) => liveness?.finished(String(job.id)));
  holder.__keysteadWorker = run({
    events,
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
      setWorkerState("running");
      logger().info("[keystead] worker started");
      if (!env().STRIPE_SECRET_KEY) {
        logger().warn("[keystead] Stripe keys not set: checkouts cannot be processed until STRIPE_SECRET_KEY is set");
      }
      runner.events.on("job:error", ({ job }) => metrics().jobsFailed.inc({ task: job.task_identifier }));
      const stopBeating = heartbeat(pool);
      runner.promise.then(
        () => {
          stopBeating();
          setWorkerState("stopped");
        },
        (err: unknown) => {
          stopBeating();
          setWorkerState("failed");
          logger().error({ err: errorField(err) }, `[keystead] worker stopped on an error: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
      return runner;
    },
    (err: unknown) => {
      setWorkerState("failed");
      logger().error(`[keystead] worker failed to start: ${err instanceof Error ? err.message : String(err)}`);
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
    if (level === "error") logger().error(line);
    else if (level === "warning") logger().warn(line);
    else logger().info(line);
  },
);

/** pg's answer on a client whose connection already failed (graphile-worker's UNLISTEN at shutdown): that failure was the news. */
const notQueryable = (err: unknown) => err instanceof Error && err.message === "Client has encountered a connection error and is not queryable";

/**
 * A running worker says so every WORKER_HEARTBEAT_MS in app_state, so a web-only replica's /api/ready can tell
 * whether any worker is working this database. A missed beat (the database busy or away) is not logged: the
 * next one, or readiness, says it.
 */
function heartbeat(pool: Pool): () => void {
  const beat = () =>
    pool
      .query(
        `insert into app_state (key, value, updated_at) values ($1, $2, now())
         on conflict (key) do update set value = excluded.value, updated_at = now()`,
        [WORKER_HEARTBEAT_KEY, JSON.stringify({ pid: process.pid })],
      )
      .catch(() => undefined);
  void beat();
  const timer = setInterval(beat, WORKER_HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}
