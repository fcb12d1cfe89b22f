import { sql } from "drizzle-orm";
import type { Db } from "@/server/db/client";
import { SWEEP_BATCH_SIZE, type SweepBatch, type SweepOptions } from "./batch";

/**
 * Expired sign-in state goes away: sessions past their expiry and sign-in links (verification tokens) past theirs
 * (and management API idempotency keys older than their 24 hours).
 * next-auth only deletes a session when its cookie comes back after expiry, and a link only when it is used, so
 * without this both tables grow with every sign-in that is never finished or never returns. One batch per call:
 * at most `limit` rows of each table, in one short transaction; SKIP LOCKED leaves rows a sign-in is touching.
 *
 * Wall-clock now(), like the session check in server/auth/session.ts: expiry here is a security boundary, not a
 * business rule tests move around with the domain clock.
 */
export async function deleteExpiredAuthRows(db: Db, opts: SweepOptions = {}): Promise<SweepBatch> {
  const limit = opts.limit ?? SWEEP_BATCH_SIZE;
  return db.transaction(async (tx) => {
    const sessions = await tx.execute(sql`
      delete from sessions where session_token in (
        select session_token from sessions where expires < now() limit ${limit} for update skip locked)`);
    const links = await tx.execute(sql`
      delete from verification_tokens where (identifier, token) in (
        select identifier, token from verification_tokens where expires < now() limit ${limit} for update skip locked)`);
    // Idempotency keys answer for 24 hours (server/rest/idempotency.ts); after that nothing reads them.
    const keys = await tx.execute(sql`
      delete from idempotency_keys where id in (
        select id from idempotency_keys where created_at < now() - interval '24 hours' limit ${limit} for update skip locked)`);
    const deleted = [sessions.rowCount ?? 0, links.rowCount ?? 0, keys.rowCount ?? 0];
    return { processed: deleted.reduce((a, b) => a + b, 0), more: deleted.some((n) => n === limit) };
  });
}
