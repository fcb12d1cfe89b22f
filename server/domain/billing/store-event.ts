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
  const objectId = event.data.object.id;
  const [row] = await tx
    .insert(stripeEvents)
    .values({
      id: event.id,
      type: event.type,
      livemode: event.livemode ?? false,
      apiVersion: event.api_version ?? null,
      stripeCreatedAt: new Date(event.created * 1000),
      objectId: typeof objectId === "string" ? objectId : null,
      payload: event,
      receivedVia: via,
    })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ id: stripeEvents.id });
  if (!row) return false;
  await enqueue(tx, "process_stripe_event", { eventId: event.id }, { jobKey: processJobKey(event.id) });
  return true;
}
