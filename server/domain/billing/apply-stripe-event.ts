import type Stripe from "stripe";
import { and, eq, sql } from "drizzle-orm";
import { stripeEvents } from "@/server/db/schema";
import { db as processDb, type Db, type DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { env } from "@/server/env";
import { backoffDelayMs, enqueue } from "@/server/jobs/enqueue";
import { ISSUING_CHECKOUT_EVENTS, isPaid, issueCheckoutLicenses, readCheckoutSession } from "./events/checkout-session";
import { CHARGE_EVENTS, REFUND_EVENTS, chargeHandler, refundHandler } from "./events/charge";
import { CUSTOMER_EVENTS, customerHandler } from "./events/customer";
import { DISPUTE_EVENTS, disputeHandler } from "./events/dispute";
import { handler, type EventHandler } from "./events/event-handler";
import { INVOICE_EVENTS, invoiceHandler } from "./events/invoice";
import { SUBSCRIPTION_EVENTS, subscriptionHandler } from "./events/subscription";
import { PermanentEventError, describeError, isTransientError, stripeClient } from "./stripe-client";
import { processJobKey } from "./store-event";
import { logger } from "@/server/observability/log";

/** A paid checkout session issues licenses (one per line item); an unpaid one waits for its next event. */
const checkoutHandler = handler({
  objectPrefixes: ["cs_"],
  read: readCheckoutSession,
  apply: async (tx, actor, snapshot) => {
    if (!isPaid(snapshot.paymentStatus)) {
      return {
        status: "ignored",
        result: {
          reason: `Checkout session ${snapshot.sessionId} is not paid (payment_status "${snapshot.paymentStatus}"); nothing is issued until it is.`,
          checkoutSessionId: snapshot.sessionId,
          paymentStatus: snapshot.paymentStatus,
        },
      };
    }
    return { status: "processed", result: await issueCheckoutLicenses(tx, actor, snapshot) };
  },
});

/**
 * Every event type Keystead acts on, and how. Each handler treats its event as a pointer: it re-reads the object
 * from the API and applies what it says now, by object id, so any order and any number of deliveries end the same.
 */
const HANDLERS: Record<string, EventHandler<any>> = Object.fromEntries([
  ...ISSUING_CHECKOUT_EVENTS.map((t) => [t, checkoutHandler]),
  ...SUBSCRIPTION_EVENTS.map((t) => [t, subscriptionHandler]),
  ...INVOICE_EVENTS.map((t) => [t, invoiceHandler]),
  ...CHARGE_EVENTS.map((t) => [t, chargeHandler]),
  ...REFUND_EVENTS.map((t) => [t, refundHandler]),
  ...DISPUTE_EVENTS.map((t) => [t, disputeHandler]),
  ...CUSTOMER_EVENTS.map((t) => [t, customerHandler]),
]);

/** The event types processing acts on (the reconciliation lists only these; Stripe allows up to 20). */
export const HANDLED_EVENT_TYPES = Object.keys(HANDLERS);

/** After this many failed tries an event is marked failed and waits for a human to replay it. */
export const MAX_EVENT_ATTEMPTS = 12;

export type ProcessDeps = {
  db: Db;
  /** Called only when an event needs the API; throws PermanentEventError when Stripe is not configured. */
  stripe: () => Stripe;
  retryBaseMs: number;
};

export type ProcessOutcome =
  | { status: "processed" | "ignored"; result: Record<string, unknown> }
  | { status: "retrying"; attempts: number; error: string; runAt: Date }
  | { status: "failed"; attempts: number; error: string }
  /** Nothing to do: the event is unknown, or a duplicate job found it already settled. */
  | { status: "skipped"; reason: string };

const defaultDeps = (): ProcessDeps => ({ db: processDb(), stripe: stripeClient, retryBaseMs: env().RETRY_BASE_MS });

/**
 * Processes one stored Stripe event. The stored payload is a pointer, not the truth: the objects it names are
 * re-read from the API, outside any transaction, and the changes they cause are written in one transaction
 * that also settles the event. Safe to run any number of times for the same event.
 *
 * Failures never escape as exceptions meant for the job runner: a transient one records the attempt and
 * schedules our own retry with backoff, a permanent one (or the last attempt) marks the event failed.
 */
export async function processStripeEvent(eventId: string, deps: ProcessDeps = defaultDeps()): Promise<ProcessOutcome> {
  const [event] = await deps.db.select().from(stripeEvents).where(eq(stripeEvents.id, eventId));
  if (!event) return { status: "skipped", reason: "no such event" };
  if (event.status !== "pending") return { status: "skipped", reason: `already ${event.status}` };

  try {
    const h = HANDLERS[event.type];
    if (h) return await processWith(deps, event, h);
    return await settle(deps.db, event.id, "ignored", {
      reason: `Keystead does not act on ${event.type} events.`,
    });
  } catch (err) {
    return recordFailure(deps, event.id, err);
  }
}

type EventRow = typeof stripeEvents.$inferSelect;
const actorFor = (eventId: string): Actor => ({ type: "stripe", id: eventId });

async function processWith<S>(deps: ProcessDeps, event: EventRow, h: EventHandler<S>): Promise<ProcessOutcome> {
  const objectId = event.objectId;
  if (!objectId || !h.objectPrefixes.some((p) => objectId.startsWith(p))) {
    throw new PermanentEventError(
      `A ${event.type} event should name a ${h.objectPrefixes.join(" or ")}… object; data.object.id is ${JSON.stringify(objectId)}.`,
    );
  }
  // Every Stripe call happens here, before the transaction: a slow API must never hold row locks.
  const snapshot = await h.read(deps.stripe(), objectId);

  const outcome = await deps.db.transaction(async (tx) => {
    // Another run of this event (a duplicate job, a replay) may have settled it while we talked to Stripe.
    const [row] = await tx.select().from(stripeEvents).where(eq(stripeEvents.id, event.id)).for("update");
    if (row?.status !== "pending") return null;
    const settlement = await h.apply(tx, actorFor(event.id), snapshot);
    await markSettled(tx, event.id, settlement.status, settlement.result);
    return settlement;
  });
  if (!outcome) return { status: "skipped", reason: "settled by another run" };
  return outcome;
}

async function markSettled(tx: DbOrTx, eventId: string, status: "processed" | "ignored", result: object) {
  const [row] = await tx
    .update(stripeEvents)
    .set({
      status,
      result: result as Record<string, unknown>,
      attempts: sql`${stripeEvents.attempts} + 1`,
      lastError: null,
      processedAt: now(),
    })
    .where(and(eq(stripeEvents.id, eventId), eq(stripeEvents.status, "pending")))
    .returning({ id: stripeEvents.id, type: stripeEvents.type });
  if (!row) return false;
  await recordAudit(tx, actorFor(eventId), {
    action: `stripe_event.${status}`,
    subjectType: "stripe_event",
    subjectId: eventId,
    after: { type: row.type, result },
  });
  return true;
}

async function settle(db: Db, eventId: string, status: "processed" | "ignored", result: Record<string, unknown>): Promise<ProcessOutcome> {
  const settled = await db.transaction((tx) => markSettled(tx, eventId, status, result));
  return settled ? { status, result } : { status: "skipped", reason: "settled by another run" };
}

/**
 * Records a failed try. Whatever the try wrote has rolled back with its transaction; this writes only the
 * attempt count and error, and in the same transaction either schedules the next try or gives up.
 */
async function recordFailure(deps: ProcessDeps, eventId: string, err: unknown): Promise<ProcessOutcome> {
  const permanent = !isTransientError(err);
  const error = describeError(err).slice(0, 2000);
  if (!permanent) logger().warn(`[keystead] Stripe event ${eventId} failed, will retry: ${error}`);
  else logger().error(`[keystead] Stripe event ${eventId} failed: ${error}`);

  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(stripeEvents)
      .set({ attempts: sql`${stripeEvents.attempts} + 1`, lastError: error })
      .where(and(eq(stripeEvents.id, eventId), eq(stripeEvents.status, "pending")))
      .returning({ attempts: stripeEvents.attempts });
    if (!row) return { status: "skipped", reason: "settled by another run" } as const;

    if (permanent || row.attempts >= MAX_EVENT_ATTEMPTS) {
      await tx.update(stripeEvents).set({ status: "failed" }).where(eq(stripeEvents.id, eventId));
      await recordAudit(tx, actorFor(eventId), {
        action: "stripe_event.failed",
        subjectType: "stripe_event",
        subjectId: eventId,
        after: { attempts: row.attempts, error, permanent },
      });
      return { status: "failed", attempts: row.attempts, error } as const;
    }
    // Our own backoff rather than the job runner's: it is configurable (RETRY_BASE_MS) and visible on the event.
    // Wall clock, not the domain clock: the job runner compares run_at with the database's real now().
    const runAt = new Date(Date.now() + backoffDelayMs(row.attempts, deps.retryBaseMs));
    await enqueue(tx, "process_stripe_event", { eventId }, { jobKey: processJobKey(eventId), runAt });
    return { status: "retrying", attempts: row.attempts, error, runAt } as const;
  });
}
