import { Client, type Pool } from "pg";
import { databaseUrl } from "@/server/db/client";
import { logger } from "@/server/observability/log";

/**
 * Jobs of a worker process that died without a word (kill -9, out of memory, a machine lost) are picked up by the
 * workers still alive within seconds, instead of the four hours after which graphile-worker itself would unlock
 * them.
 *
 * graphile-worker locks a job with its worker pool's id (one per process). Each process holds a session advisory
 * lock named after that id on a connection of its own, for as long as it lives: PostgreSQL releases it the
 * moment the process's connection goes, whatever killed it. Every few seconds each worker looks at the pools that
 * hold locked jobs; a pool whose advisory lock it can take is dead, and its jobs are unlocked
 * (graphile_worker.force_unlock_workers) to run again. Our jobs are safe to run again: a transaction the dead
 * process had open was rolled back with its connection, and each task checks its rows before it acts.
 */
const LOCK_CLASS = 72618;
/** A job locked this recently may belong to a pool whose liveness lock is still being taken. */
const GRACE_SECONDS = 5;
const SWEEP_EVERY_MS = 5_000;

export type Liveness = {
  /** graphile-worker started / finished running this job in this process. */
  started: (jobId: string) => void;
  finished: (jobId: string) => void;
  stop: () => Promise<void>;
};

/** A finished job stays locked until graphile-worker's completion query lands: leave it alone this long. */
const FINISHED_GRACE_MS = 60_000;

export function holdLiveness(poolId: string, pool: Pool, log: (line: string) => void = (line) => logger().warn(line)): Liveness {
  let client: Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<string>();
  const finished = new Map<string, number>();

  const connect = async () => {
    while (!stopped) {
      const c = new Client({ connectionString: databaseUrl(), application_name: `keystead-worker ${poolId}` });
      try {
        c.on("error", () => undefined);
        await c.connect();
        await c.query("select pg_advisory_lock($1, hashtext($2))", [LOCK_CLASS, poolId]);
        client = c;
        // Lost (the database restarted): take it again, so our running jobs are not taken for a dead pool's.
        c.once("end", () => {
          client = undefined;
          if (!stopped) void connect();
        });
        return;
      } catch {
        await c.end().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };

  const sweep = async () => {
    if (stopped || !client) return;
    try {
      await releaseJobsOfDeadWorkers(pool, poolId, log);
      const t = Date.now();
      for (const [id, at] of finished) if (t - at > FINISHED_GRACE_MS) finished.delete(id);
      await releaseForgottenJobs(pool, poolId, (id) => running.has(id) || finished.has(id), log);
    } catch {
      // The database is away: the next sweep tries again.
    }
  };

  void connect().then(() => {
    if (stopped) return;
    void sweep();
    timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
    timer.unref();
  });

  return {
    started: (id) => void running.add(id),
    finished: (id) => {
      running.delete(id);
      finished.set(id, Date.now());
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await client?.end().catch(() => undefined);
    },
  };
}

/**
 * Jobs locked by this very pool that it is not running: a job whose end could not be recorded because the database
 * went away at that moment (PostgreSQL restarted) stays locked by a pool that has forgotten it. Unlocked, it runs
 * again (our tasks check their rows first, so a job that had in fact finished does nothing the second time).
 */
export async function releaseForgottenJobs(pool: Pool, ownPoolId: string, known: (jobId: string) => boolean, log: (line: string) => void) {
  const locked = await pool.query<{ id: string }>(
    `select id::text from graphile_worker._private_jobs where locked_by = $1 and locked_at < now() - make_interval(secs => $2)`,
    [ownPoolId, GRACE_SECONDS],
  );
  const forgotten = locked.rows.map((r) => r.id).filter((id) => !known(id));
  if (forgotten.length === 0) return 0;
  await pool.query(
    `update graphile_worker._private_jobs set locked_at = null, locked_by = null where id = any($1::bigint[]) and locked_by = $2`,
    [forgotten, ownPoolId],
  );
  log(`[keystead] ${forgotten.length} job(s) whose end was not recorded (the database was away) will run again`);
  return forgotten.length;
}

/** Unlocks the jobs of every pool whose liveness lock is free (its process is gone). Returns the pools released. */
export async function releaseJobsOfDeadWorkers(pool: Pool, ownPoolId: string | null, log: (line: string) => void = (line) => logger().warn(line)) {
  const holders = await pool.query<{ locked_by: string; jobs: number }>(
    `select locked_by, count(*)::int as jobs from graphile_worker._private_jobs
      where locked_by is not null and locked_at < now() - make_interval(secs => $1)
      group by locked_by`,
    [GRACE_SECONDS],
  );
  const released: string[] = [];
  const c = await pool.connect();
  try {
    for (const { locked_by: holder, jobs } of holders.rows) {
      if (holder === ownPoolId) continue;
      const free = (await c.query<{ ok: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as ok", [LOCK_CLASS, holder])).rows[0]!.ok;
      if (!free) continue;
      try {
        await c.query("select graphile_worker.force_unlock_workers(array[$1]::text[])", [holder]);
        released.push(holder);
        log(`[keystead] worker ${holder} is gone: ${jobs} job(s) it had locked will run again`);
      } finally {
        await c.query("select pg_advisory_unlock($1, hashtext($2))", [LOCK_CLASS, holder]);
      }
    }
  } finally {
    c.release();
  }
  return released;
}
