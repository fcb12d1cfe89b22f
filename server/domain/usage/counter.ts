import { sql } from "drizzle-orm";
import { usageDaily, type UsageMetric } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { logger } from "@/server/observability/log";

/**
 * Daily usage counts for the dashboard, counted in memory and written every FLUSH_MS: the validate route
 * serves ~1,400 requests/s, and one extra write per request would cost more than the request itself.
 *
 * Trade-off: a crash loses at most the last FLUSH_MS of counts; each replica flushes its own counts and the
 * upsert adds them up. Counts are dashboard figures, not billing data.
 */
export const FLUSH_MS = 5_000;

type Pending = Map<string, number>; // "<day>|<metric>" -> count

type State = { pending: Pending; timer: NodeJS.Timeout | null; flushing: Promise<void> | null };
const holder = globalThis as unknown as { __keysteadUsage?: State };
const state = (): State => (holder.__keysteadUsage ??= { pending: new Map(), timer: null, flushing: null });

/** UTC day of an instant, as PostgreSQL's date text. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Counts `n` events of `metric` now. Costs a Map update; the first count schedules a flush with the given
 * database (the process-wide one in routes).
 */
export function countUsage(metric: UsageMetric, getDb: () => DbOrTx, n = 1, at = new Date()) {
  const s = state();
  const key = `${utcDay(at)}|${metric}`;
  s.pending.set(key, (s.pending.get(key) ?? 0) + n);
  if (!s.timer) {
    s.timer = setTimeout(() => {
      s.timer = null;
      void flushUsage(getDb()).catch((err) => logger().error(`[usage] flush failed: ${err instanceof Error ? err.message : String(err)}`));
    }, FLUSH_MS);
    // A pending flush never keeps a process (a test, the worker alone) alive.
    s.timer.unref();
  }
}

/** Writes the pending counts (one upsert) and clears them; on failure they are put back for the next flush. */
export async function flushUsage(db: DbOrTx): Promise<void> {
  const s = state();
  if (s.flushing) await s.flushing;
  if (s.pending.size === 0) return;
  const batch = s.pending;
  s.pending = new Map();
  const rows = [...batch].map(([key, count]) => {
    const [day, metric] = key.split("|") as [string, UsageMetric];
    return { day, metric, count };
  });
  s.flushing = (async () => {
    try {
      await addUsage(db, rows);
    } catch (err) {
      for (const [key, n] of batch) s.pending.set(key, (s.pending.get(key) ?? 0) + n);
      throw err;
    } finally {
      s.flushing = null;
    }
  })();
  await s.flushing;
}

export type UsageRow = { day: string; metric: UsageMetric; count: number };

/** Adds counts to the daily rows. Replicas flush at the same time: the upsert adds, it never overwrites. */
export async function addUsage(db: DbOrTx, rows: UsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(usageDaily)
    .values(rows)
    .onConflictDoUpdate({
      target: [usageDaily.day, usageDaily.metric],
      set: { count: sql`${usageDaily.count} + excluded.count` },
    });
}

/** Counts not yet written (tests). */
export function pendingUsage(): number {
  let total = 0;
  for (const n of state().pending.values()) total += n;
  return total;
}
