import { sql } from "drizzle-orm";
import { db } from "@/server/db/client";
import { env } from "@/server/env";
import { workerRunning } from "@/server/jobs/worker";

export type Health = { ok: boolean; database: "ok" | "error"; worker: "ok" | "off" | "error"; error?: string };

/** Database reachable and migrated (our newest table answers), worker running unless WORKER=off. */
export async function checkHealth(): Promise<Health> {
  const worker = env().WORKER === "off" ? "off" : workerRunning() ? "ok" : "error";
  try {
    await db().execute(sql`select 1 from app_state limit 1`);
    await db().execute(sql`select 1 from graphile_worker.jobs limit 1`);
  } catch (err) {
    return { ok: false, database: "error", worker, error: err instanceof Error ? err.message : String(err) };
  }
  return { ok: worker !== "error", database: "ok", worker, ...(worker === "error" ? { error: "the worker is not running" } : {}) };
}
