import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { db } from "@/server/db/client";
import { migrationsFolder } from "@/server/db/migrations-folder";
import { env } from "@/server/env";
import { workerState } from "@/server/jobs/state";
import { logger } from "@/server/observability/log";
import { jobsWaiting, oldestPendingStripeEventAgeSeconds } from "@/server/observability/metrics";

export type Health = {
  ok: boolean;
  database: "ok" | "unavailable";
  worker: "ok" | "off" | "starting" | "stopped" | "failed";
};

/**
 * Database reachable and migrated (our newest table answers), worker running unless WORKER=off. The answer is
 * public, so it names the failing part only; why it failed goes to the log.
 */
export async function checkHealth(): Promise<Health> {
  const worker = workerHealth();
  let database: Health["database"] = "ok";
  try {
    await db().execute(sql`select 1 from app_state limit 1`);
    await db().execute(sql`select 1 from graphile_worker.jobs limit 1`);
  } catch (err) {
    database = "unavailable";
    const cause = (err as { cause?: unknown }).cause;
    logger().error(`[keystead] health: database unavailable: ${describe(cause instanceof Error ? cause : err)}`);
  }
  return { ok: database === "ok" && (worker === "ok" || worker === "off"), database, worker };
}

function workerHealth(): Health["worker"] {
  if (env().WORKER === "off") return "off";
  const state = workerState();
  if (state === "running") return "ok";
  // Instrumentation starts it before the first request; until then it is on its way.
  return state === "not started" ? "starting" : state;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** How often a running worker writes its heartbeat, and how old one may be before readiness calls it stale. */
export const WORKER_HEARTBEAT_KEY = "worker.heartbeat";
export const WORKER_HEARTBEAT_MS = 10_000;
const HEARTBEAT_STALE_SECONDS = 60;

/** GET /api/ready's answer (200 when ok, 503 otherwise), for the OpenAPI document. */
export const ReadinessOutput = z.object({
  ok: z.boolean(),
  database: z.enum(["ok", "unavailable"]),
  migrations: z.enum(["ok", "pending", "unknown"]),
  /** This process's worker, or with WORKER=off the freshest heartbeat of any worker on the database. */
  worker: z.enum(["ok", "off", "starting", "stopped", "failed", "stale", "none"]),
  queue: z.object({ waiting: z.number().int().nullable(), oldestStripeEventAgeSeconds: z.number().int().nullable() }),
});
export type Readiness = z.infer<typeof ReadinessOutput> & { worker: Health["worker"] | "stale" | "none" };

/**
 * GET /api/ready: can this process serve now? The database answers, every migration this build ships is
 * applied, and this process's worker (if it runs one) has not stopped. 503 otherwise. The queue figures say how
 * far behind the work is; they are for the operator and never make the answer a 503 on their own.
 */
export async function checkReady(): Promise<Readiness> {
  const answer: Readiness = { ok: false, database: "ok", migrations: "unknown", worker: workerHealth(), queue: { waiting: null, oldestStripeEventAgeSeconds: null } };
  try {
    const d = db();
    const applied = await d.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    answer.migrations = Number(applied.rows[0]?.n ?? 0) >= shippedMigrationCount() ? "ok" : "pending";
    if (answer.worker === "off") answer.worker = await heartbeatHealth();
    answer.queue.waiting = await jobsWaiting(d);
    answer.queue.oldestStripeEventAgeSeconds = await oldestPendingStripeEventAgeSeconds(d);
  } catch (err) {
    answer.database = "unavailable";
    const cause = (err as { cause?: unknown }).cause;
    logger().error(`[keystead] ready: database unavailable: ${describe(cause instanceof Error ? cause : err)}`);
  }
  const workerStopped = answer.worker === "stopped" || answer.worker === "failed";
  answer.ok = answer.database === "ok" && answer.migrations === "ok" && !workerStopped;
  return answer;
}

async function heartbeatHealth(): Promise<"ok" | "stale" | "none"> {
  const r = await db().execute(
    sql`select extract(epoch from now() - updated_at)::float8 as age from app_state where key = ${WORKER_HEARTBEAT_KEY}`,
  );
  const age = r.rows[0]?.age;
  if (age === undefined || age === null) return "none";
  return Number(age) <= HEARTBEAT_STALE_SECONDS ? "ok" : "stale";
}

let shipped: number | undefined;
/** The migrations this build brings (drizzle/meta/_journal.json), read once. */
function shippedMigrationCount(): number {
  shipped ??= (JSON.parse(fs.readFileSync(path.join(migrationsFolder(), "meta", "_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;
  return shipped;
}
