import { sql } from "drizzle-orm";
import { db } from "@/server/db/client";
import { env } from "@/server/env";
import { workerState } from "@/server/jobs/worker";

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
    console.error(`[keystead] health: database unavailable: ${describe(cause instanceof Error ? cause : err)}`);
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
