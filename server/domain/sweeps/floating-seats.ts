import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { SYSTEM, recordAudit } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { emitActivationEvent } from "@/server/domain/webhooks/emit";
import { SWEEP_AUDIT_METADATA, SWEEP_BATCH_SIZE, type SweepBatch, type SweepOptions } from "./batch";

type Lapsed = {
  id: string;
  license_id: string;
  fingerprint: string;
  name: string | null;
  platform: string | null;
  created_at: Date;
  last_seen_at: Date;
  window_seconds: number;
};

/**
 * Floating seats: on plans with a heartbeat window, an activation whose machine has not checked in within the
 * window gives its seat back. activate.ts already does this lazily for one license when it is full; this sweep
 * does it for every license, so seat counts in the admin app and the portal stay true. One batch per call.
 * Air-gapped activations (activation files) are never seen by design and never lapse.
 *
 * The license rows are locked (SKIP LOCKED) before their activations are deleted: an activation in progress
 * holds its license's lock, so the sweep passes over that license this time instead of deleting a seat the
 * activation is counting. A heartbeat arriving meanwhile is safe too: the delete re-checks last_seen_at.
 */
export async function freeLapsedSeats(db: Db, opts: SweepOptions = {}): Promise<SweepBatch> {
  const limit = opts.limit ?? SWEEP_BATCH_SIZE;
  return db.transaction(async (tx) => {
    const at = now().toISOString();
    const { rows: candidates } = await tx.execute<{ id: string }>(sql`
      select a.id
      from activations a
      join licenses l on l.id = a.license_id
      join plans p on p.id = l.plan_id
      where p.heartbeat_window_seconds is not null
        and not a.air_gapped
        and a.last_seen_at < ${at}::timestamptz - make_interval(secs => p.heartbeat_window_seconds)
      order by a.last_seen_at
      limit ${limit}
      for update of l skip locked`);
    if (candidates.length === 0) return { processed: 0, more: false };

    const { rows: freed } = await tx.execute<Lapsed>(sql`
      delete from activations a
      using licenses l, plans p
      where a.id = any(${sql.param(candidates.map((c) => c.id))}::uuid[])
        and l.id = a.license_id and p.id = l.plan_id
        and a.last_seen_at < ${at}::timestamptz - make_interval(secs => p.heartbeat_window_seconds)
      returning a.id, a.license_id, a.fingerprint, a.name, a.platform, a.created_at, a.last_seen_at, p.heartbeat_window_seconds as window_seconds`);

    const byLicense = new Map<string, Lapsed[]>();
    for (const a of freed) byLicense.set(a.license_id, [...(byLicense.get(a.license_id) ?? []), a]);
    for (const [licenseId, gone] of byLicense) {
      await recordAudit(tx, SYSTEM, {
        action: "activation.lapsed",
        subjectType: "license",
        subjectId: licenseId,
        before: {
          activations: gone.map((a) => ({ id: a.id, fingerprint: a.fingerprint, lastSeenAt: new Date(a.last_seen_at).toISOString() })),
        },
        metadata: { ...SWEEP_AUDIT_METADATA, heartbeatWindowSeconds: gone[0]!.window_seconds },
      });
      await emitActivationEvent(
        tx,
        "activation.deleted",
        licenseId,
        gone.map((a) => ({ ...a, createdAt: new Date(a.created_at), lastSeenAt: new Date(a.last_seen_at) })),
        { reason: "lapsed" },
      );
    }
    return { processed: freed.length, more: candidates.length === limit };
  });
}
