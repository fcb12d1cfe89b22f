import type Stripe from "stripe";
import { eq, inArray, sql } from "drizzle-orm";
import { appState, stripeEvents } from "@/server/db/schema";
import { db as processDb, type Db, type DbOrTx } from "@/server/db/client";
import { HANDLED_EVENT_TYPES } from "./apply-stripe-event";
import { StripeEventEnvelope, storeStripeEvents } from "./store-event";
import { describeError, stripeClient } from "./stripe-client";
import { WEBHOOK_LAST_SEEN_KEY } from "./webhook";

/**
 * Missed webhooks heal by themselves: this lists Stripe's events since the last one it has seen (the types
 * Keystead acts on), stores the ones we do not have exactly as the webhook would (storeStripeEvent, which also
 * queues their processing), then moves its cursor. Storing is idempotent, so a run that stops half-way, two runs
 * at once, or events the webhook also brought, change nothing twice.
 *
 * The cursor is the newest `created` seen; each run lists from a few minutes before it, because an event can
 * show up in Stripe's list a little after its timestamp. With no cursor (the first run) it lists everything
 * Stripe still keeps (30 days).
 */

export const RECONCILE_CURSOR_KEY = "stripe.reconcile_cursor";
export const RECONCILE_LAST_RUN_KEY = "stripe.reconcile_last_run";
export const RECONCILE_REQUESTED_KEY = "stripe.reconcile_requested_at";
export const RECONCILE_OVERLAP_SECONDS = 300;
const PAGE_SIZE = 100;

export type ReconcileCursor = { created: number; eventId: string };

export type ReconcileRun = {
  startedAt: string;
  finishedAt: string;
  /** Events Stripe listed (of the types we act on, since the cursor minus the overlap). */
  listed: number;
  /** Of those, the ones we did not have: stored and queued now. */
  stored: number;
  /** Their ids (the first 100), for the admin. */
  storedIds: string[];
  /** Why the run stopped early; null when it completed. The cursor only moves on a complete run. */
  error: string | null;
  cursor: ReconcileCursor | null;
};

export type ReconcileDeps = { db: Db; stripe: () => Stripe };
const defaultDeps = (): ReconcileDeps => ({ db: processDb(), stripe: stripeClient });

async function readState<T>(db: DbOrTx, key: string): Promise<T | null> {
  const [row] = await db.select().from(appState).where(eq(appState.key, key));
  return (row?.value as T | undefined) ?? null;
}

async function writeState(db: DbOrTx, key: string, value: unknown) {
  await db
    .insert(appState)
    .values({ key, value })
    .onConflictDoUpdate({ target: appState.key, set: { value, updatedAt: sql`now()` } });
}

export async function reconcileStripeEvents(deps: ReconcileDeps = defaultDeps()): Promise<ReconcileRun> {
  // Wall clock: this is about when the job ran, not a domain rule.
  const startedAt = new Date().toISOString();
  const cursor = await readState<ReconcileCursor>(deps.db, RECONCILE_CURSOR_KEY);
  let listed = 0;
  const storedIds: string[] = [];
  let stored = 0;
  let newest: ReconcileCursor | null = null;
  let error: string | null = null;

  try {
    const stripe = deps.stripe();
    const params: Stripe.EventListParams = {
      types: HANDLED_EVENT_TYPES,
      limit: PAGE_SIZE,
      ...(cursor ? { created: { gte: cursor.created - RECONCILE_OVERLAP_SECONDS } } : {}),
    };
    let startingAfter: string | undefined;
    for (;;) {
      // Pages come newest first; each is stored in one transaction, then the next is asked for.
      const page = await stripe.events.list(startingAfter ? { ...params, starting_after: startingAfter } : params);
      listed += page.data.length;
      if (page.data[0] && (!newest || page.data[0].created > newest.created)) {
        newest = { created: page.data[0].created, eventId: page.data[0].id };
      }
      const fresh = await newOnly(deps.db, page.data.map((e) => e.id));
      // The listed objects themselves (not zod's output), so every field Stripe sent is kept, as the webhook keeps it.
      const toStore = page.data.filter((e) => fresh.has(e.id) && StripeEventEnvelope.safeParse(e).success) as unknown as StripeEventEnvelope[];
      if (toStore.length > 0) {
        // One transaction per page: the events and their processing jobs commit together (storeStripeEvent's rule).
        const ids = await deps.db.transaction((tx) => storeStripeEvents(tx, toStore, "reconcile"));
        stored += ids.length;
        storedIds.push(...ids.slice(0, Math.max(0, 100 - storedIds.length)));
      }
      if (!page.has_more || page.data.length === 0) break;
      startingAfter = page.data[page.data.length - 1]!.id;
    }
    if (newest && (!cursor || newest.created > cursor.created)) {
      await deps.db
        .insert(appState)
        .values({ key: RECONCILE_CURSOR_KEY, value: newest })
        .onConflictDoUpdate({
          target: appState.key,
          set: { value: newest, updatedAt: sql`now()` },
          // Two runs at once: the cursor only moves forward.
          setWhere: sql`(${appState.value}->>'created')::bigint < ${newest.created}`,
        });
    }
  } catch (err) {
    error = describeError(err).slice(0, 1000);
  }

  const run: ReconcileRun = {
    startedAt,
    finishedAt: new Date().toISOString(),
    listed,
    stored,
    storedIds,
    error,
    cursor: error ? cursor : (newest && (!cursor || newest.created > cursor.created) ? newest : cursor),
  };
  await writeState(deps.db, RECONCILE_LAST_RUN_KEY, run);
  return run;
}

/** The ids of this page we do not have yet: one query instead of an insert attempt per known event. */
async function newOnly(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const known = await db.select({ id: stripeEvents.id }).from(stripeEvents).where(inArray(stripeEvents.id, ids));
  const have = new Set(known.map((k) => k.id));
  return new Set(ids.filter((id) => !have.has(id)));
}

export type ReconciliationStatus = {
  lastRun: ReconcileRun | null;
  cursor: ReconcileCursor | null;
  /** When an admin last asked for a run (POST /api/v1/admin/stripe/reconcile). */
  requestedAt: string | null;
  /** The last webhook delivery we accepted, to compare with what reconciliation finds. */
  webhookLastSeen: { at: string; eventId: string; type: string } | null;
};

/** What the admin sees about reconciliation: when it last ran, what it listed and found, and any error. */
export async function reconciliationStatus(db: DbOrTx): Promise<ReconciliationStatus> {
  const rows = await db
    .select()
    .from(appState)
    .where(inArray(appState.key, [RECONCILE_LAST_RUN_KEY, RECONCILE_CURSOR_KEY, RECONCILE_REQUESTED_KEY, WEBHOOK_LAST_SEEN_KEY]));
  const value = (key: string) => rows.find((r) => r.key === key)?.value ?? null;
  return {
    lastRun: value(RECONCILE_LAST_RUN_KEY) as ReconcileRun | null,
    cursor: value(RECONCILE_CURSOR_KEY) as ReconcileCursor | null,
    requestedAt: value(RECONCILE_REQUESTED_KEY) as string | null,
    webhookLastSeen: value(WEBHOOK_LAST_SEEN_KEY) as ReconciliationStatus["webhookLastSeen"],
  };
}
