import crypto from "node:crypto";
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { db } from "@/server/db/client";
import { idempotencyKeys } from "@/server/db/schema";
import { AppError } from "@/server/domain/errors";

/**
 * `Idempotency-Key` for mutating management API calls. The same caller sending the same key with the same
 * method, path and body gets the first answer again for 24 hours (with `Idempotent-Replayed: true`); the same key
 * with anything else gets 409 IDEMPOTENCY_CONFLICT. Concurrent requests with one key never both run: the first
 * claims the key with an INSERT that the unique (actor, key) index lets only one win; the others wait for its
 * answer and replay it.
 *
 * Stored: answers below 500 except 429 (a caller should be able to retry those with the same key). A request
 * that ends in a 5xx or 429, or whose process dies, frees its key (the latter after CLAIM_LEASE_MS).
 */

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** A claim older than this with no answer belongs to a request that died; the next one takes it over. */
const CLAIM_LEASE_MS = 5 * 60 * 1000;
/** How long a second request waits for the first one's answer before it is told to come back. */
const WAIT_MS = 15_000;
const POLL_MS = 50;

const KEY = /^[\x21-\x7e]{1,255}$/;

export const MUTATING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export type IdempotencyRequest = { actor: string; key: string; method: string; path: string; body: string };
export type StoredAnswer = { status: number; body: unknown };

/** The Idempotency-Key header, checked; null when absent. */
export function idempotencyKey(req: Request): string | null {
  const raw = req.headers.get("idempotency-key");
  if (raw === null) return null;
  if (!KEY.test(raw)) {
    throw new AppError("BAD_REQUEST", "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice).");
  }
  return raw;
}

const conflict = (message: string) => new AppError("IDEMPOTENCY_CONFLICT", message);

/**
 * Runs `run` at most once per (actor, key) and answers every request with that key from its result. `run` returns
 * the answer to store; it is only called by the request that holds the claim.
 */
export async function withIdempotency(
  request: IdempotencyRequest,
  run: () => Promise<StoredAnswer>,
): Promise<StoredAnswer & { replayed: boolean }> {
  const bodyHash = crypto.createHash("sha256").update(request.body).digest("hex");
  const same = (row: typeof idempotencyKeys.$inferSelect) =>
    row.method === request.method && row.path === request.path && row.bodyHash === bodyHash;
  const deadline = Date.now() + WAIT_MS;

  for (;;) {
    // An answer past its 24 hours no longer binds the key.
    await db()
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.actor, request.actor),
          eq(idempotencyKeys.key, request.key),
          lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${IDEMPOTENCY_WINDOW_MS / 1000})`),
        ),
      );
    const [claimed] = await db()
      .insert(idempotencyKeys)
      .values({ actor: request.actor, key: request.key, method: request.method, path: request.path, bodyHash })
      .onConflictDoNothing()
      .returning({ id: idempotencyKeys.id });
    if (claimed) return { ...(await runClaimed(claimed.id, run)), replayed: false };

    const [row] = await db()
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.actor, request.actor), eq(idempotencyKeys.key, request.key)));
    if (!row) continue; // freed between our insert and this read: claim again
    if (!same(row)) {
      throw conflict("This Idempotency-Key was already used for another request (method, path or body); use a new key.");
    }
    if (row.completedAt && row.status !== null) return { status: row.status, body: row.response, replayed: true };

    // The first request is still running. A claim past its lease is taken over; otherwise wait for its answer.
    const [takenOver] = await db()
      .update(idempotencyKeys)
      .set({ createdAt: sql`now()` })
      .where(
        and(
          eq(idempotencyKeys.id, row.id),
          isNull(idempotencyKeys.completedAt),
          lt(idempotencyKeys.createdAt, sql`now() - make_interval(secs => ${CLAIM_LEASE_MS / 1000})`),
        ),
      )
      .returning({ id: idempotencyKeys.id });
    if (takenOver) return { ...(await runClaimed(takenOver.id, run)), replayed: false };
    if (Date.now() > deadline) {
      throw conflict("A request with this Idempotency-Key is still being processed; retry it in a moment.");
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function runClaimed(id: string, run: () => Promise<StoredAnswer>): Promise<StoredAnswer> {
  let answer: StoredAnswer;
  try {
    answer = await run();
  } catch (err) {
    await db().delete(idempotencyKeys).where(eq(idempotencyKeys.id, id));
    throw err;
  }
  if (answer.status >= 500 || answer.status === 429) {
    await db().delete(idempotencyKeys).where(eq(idempotencyKeys.id, id));
  } else {
    await db()
      .update(idempotencyKeys)
      .set({ status: answer.status, response: answer.body as object, completedAt: sql`now()` })
      .where(eq(idempotencyKeys.id, id));
  }
  return answer;
}
