import type { Pool, PoolClient } from "pg";
import type { Db } from "@/server/db/client";
import type { ActivationRecord } from "./lookup";
import { StatementBatcher } from "./lookup-batch";

/**
 * "This machine was seen now": the write of heartbeat and of activate for a machine activated before, the
 * hot path's only write. One statement, committed on its own (nothing else changes with it), and on the pool
 * concurrent writes share one execution, so one commit (one WAL flush) serves a whole batch.
 *
 * Sent details (name, platform, metadata) are refreshed with it, as a new activation would store them.
 *
 * Locks: the batch locks its rows in id order before it writes, so two batches (or another replica's) always
 * take shared rows in the same order. A batch still chosen as a deadlock victim (against a multi-row delete
 * elsewhere) is written again row by row, each its own statement, which holds one lock at a time.
 *
 * An activation deleted since it was read (deactivated, reset, lapsed) matches no row: the caller gets null
 * and decides (heartbeat answers NOT_ACTIVATED; activate goes through the seat rule again).
 */
export type SeenDetails = { name?: string; platform?: string; metadata?: Record<string, unknown> };

type Touch = { id: string; at: Date } & SeenDetails;

type TouchRow = {
  i: number;
  id: string;
  fingerprint: string;
  name: string | null;
  platform: string | null;
  created_at: Date;
  last_seen_at: Date;
};

const touchSql = (source: string) => `
  with q as (${source}),
  locked as materialized (
    select a.id from activations a where a.id in (select id from q) order by a.id for update
  )
  update activations a
     set last_seen_at = q.at,
         name = case when q.set_name then q.name else a.name end,
         platform = case when q.set_platform then q.platform else a.platform end,
         metadata = case when q.set_metadata then q.metadata else a.metadata end
    from q join locked on locked.id = q.id
   where a.id = q.id
  returning q.i::int as i, a.id, a.fingerprint, a.name, a.platform, a.created_at, a.last_seen_at`;
const TOUCH_NAME = "keystead_activations_seen";
const TOUCH_SQL = touchSql(`
  select * from unnest($1::uuid[], $2::timestamptz[], $3::bool[], $4::text[], $5::bool[], $6::text[], $7::bool[], $8::jsonb[])
    with ordinality as q(id, at, set_name, name, set_platform, platform, set_metadata, metadata, i)`);
/** The same for one activation (lookup-batch.ts says why it is a statement of its own). */
const TOUCH_ONE_NAME = "keystead_activation_seen";
const TOUCH_ONE_SQL = touchSql(`
  select $1::uuid as id, $2::timestamptz as at, $3::bool as set_name, $4::text as name, $5::bool as set_platform,
         $6::text as platform, $7::bool as set_metadata, $8::jsonb as metadata, 1 as i`);

/** One touch's parameters, in the statements' order ($1 to $8). */
const touchParams = (t: Touch): unknown[] => [
  t.id,
  t.at,
  t.name !== undefined,
  t.name ?? null,
  t.platform !== undefined,
  t.platform ?? null,
  t.metadata !== undefined,
  t.metadata === undefined ? null : JSON.stringify(t.metadata),
];

// One batcher per pool (tests run several pools in one process).
const batchers = new WeakMap<Pool, StatementBatcher<Touch, TouchRow>>();

/** The batcher behind touches on `pool`: its counters show how many statements served how many touches. */
export function touchBatcher(pool: Pool): StatementBatcher<Touch, TouchRow> {
  let batcher = batchers.get(pool);
  if (!batcher) {
    batcher = new StatementBatcher<Touch, TouchRow>((config) => pool.query<TouchRow>(config), TOUCH_NAME, TOUCH_SQL, touchParams, 4, 256, {
      name: TOUCH_ONE_NAME,
      text: TOUCH_ONE_SQL,
    });
    batchers.set(pool, batcher);
  }
  return batcher;
}

const isDeadlock = (err: unknown) => (err as { code?: string } | null)?.code === "40P01";

/** Marks activation `id` seen at `at` (details refreshed where sent); null when it no longer exists. */
export async function touchActivation(db: Db, id: string, at: Date, details: SeenDetails = {}): Promise<ActivationRecord | null> {
  const client = db.$client;
  const touch: Touch = { id, at, ...details };
  const alone = async (c: Pool | PoolClient) =>
    (await c.query<TouchRow>({ name: TOUCH_ONE_NAME, text: TOUCH_ONE_SQL, values: touchParams(touch) })).rows[0] ?? null;
  let row: TouchRow | null;
  if ("release" in client) {
    // A checked-out client (a transaction, a test's connection): its own statement, in its own transaction.
    row = await alone(client);
  } else {
    try {
      row = await touchBatcher(client).run(touch);
    } catch (err) {
      if (!isDeadlock(err)) throw err;
      row = await alone(client);
    }
  }
  return row
    ? { id: row.id, fingerprint: row.fingerprint, name: row.name, platform: row.platform, createdAt: row.created_at, lastSeenAt: row.last_seen_at }
    : null;
}
