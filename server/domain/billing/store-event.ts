import { sql } from "drizzle-orm";
import { z } from "zod";
import { stripeEvents } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { enqueue } from "@/server/jobs/enqueue";

/** The part of a Stripe event envelope we rely on; the whole event is stored as received. */
export const StripeEventEnvelope = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  created: z.number().int(),
  livemode: z.boolean().optional(),
  api_version: z.string().nullish(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
export type StripeEventEnvelope = z.infer<typeof StripeEventEnvelope>;

export const processJobKey = (eventId: string) => `stripe-event:${eventId}`;

/**
 * Stores a Stripe event in our durable inbox and queues its processing, through the caller's transaction so
 * the row and its job commit together. Returns false for an event we already have: a redelivery (or the
 * reconciliation job finding an event the webhook already brought) is neither stored nor queued again.
 */
export async function storeStripeEvent(
  tx: DbOrTx,
  event: StripeEventEnvelope,
  via: "webhook" | "reconcile",
): Promise<boolean> {
  const [row] = await tx
    .insert(stripeEvents)
    .values(eventRow(event, via))
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  if (!row) return false;
  await enqueue(tx, "process_stripe_event", { eventId: event.id }, { jobKey: processJobKey(event.id) });
  return true;
}

function eventRow(event: StripeEventEnvelope, via: "webhook" | "reconcile") {
  const objectId = event.data.object.id;
  return {
    id: event.id,
    type: event.type,
    livemode: event.livemode ?? false,
    apiVersion: event.api_version ?? null,
    stripeCreatedAt: new Date(event.created * 1000),
    objectId: typeof objectId === "string" ? objectId : null,
    payload: event,
    receivedVia: via,
  };
}

/**
 * storeStripeEvent for a page of events at once (the reconciliation's): the same rows and jobs, in two
 * statements instead of two per event. Returns the ids it stored (the others we already had).
 */
export async function storeStripeEvents(tx: DbOrTx, events: StripeEventEnvelope[], via: "webhook" | "reconcile"): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = await tx
    .insert(stripeEvents)
    .values(events.map((e) => eventRow(e, via)))
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  if (rows.length === 0) return [];
  // graphile-worker's batch form of add_job (the job_spec fields enqueue() sets), through the caller's transaction.
  const specs = rows.map((r) => ({
    identifier: "process_stripe_event",
    payload: { eventId: r.id },
    max_attempts: 25,
    job_key: processJobKey(r.id),
  }));
  await tx.execute(
    sql`select from graphile_worker.add_jobs(array(select json_populate_recordset(null::graphile_worker.job_spec, ${JSON.stringify(specs)}::json)))`,
  );
  return rows.map((r) => r.id);
}
