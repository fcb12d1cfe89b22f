import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/server/db/client";
import type { TaskName, TaskPayloads } from "./payloads";

export type EnqueueOptions = {
  /** Jobs with the same key collapse into one (graphile-worker job_key semantics). */
  jobKey?: string;
  runAt?: Date;
  maxAttempts?: number;
};

/**
 * Adds a graphile-worker job through the caller's connection. Inside a transaction the job commits or rolls
 * back with the change that caused it: never a job without its row, never a row without its job.
 */
export async function enqueue<T extends TaskName>(
  tx: DbOrTx,
  task: T,
  payload: TaskPayloads[T],
  opts: EnqueueOptions = {},
) {
  await tx.execute(
    sql`select graphile_worker.add_job(
      ${task}::text,
      ${JSON.stringify(payload)}::json,
      run_at => ${opts.runAt ? opts.runAt.toISOString() : null}::timestamptz,
      max_attempts => ${opts.maxAttempts ?? 25}::int,
      job_key => ${opts.jobKey ?? null}::text
    )`,
  );
}

/** Exponential backoff for our own retries: base, 2x base, 4x base... capped at one hour. */
export function backoffDelayMs(attempt: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000);
}
