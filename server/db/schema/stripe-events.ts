import { index, integer, jsonb, pgTable, text, boolean } from "drizzle-orm/pg-core";
import { ts } from "./_columns";

export const STRIPE_EVENT_STATUSES = ["pending", "processed", "ignored", "failed"] as const;
export type StripeEventStatus = (typeof STRIPE_EVENT_STATUSES)[number];

/** Every Stripe event we received, stored before it is processed: the webhook's durable inbox. */
export const stripeEvents = pgTable(
  "stripe_events",
  {
    /** Stripe's evt_ id: the primary key is what makes redeliveries collapse. */
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    livemode: boolean("livemode").notNull().default(false),
    apiVersion: text("api_version"),
    /** Stripe's `created` (when the event happened), not when we got it. */
    stripeCreatedAt: ts("stripe_created_at").notNull(),
    /** The id of the object the event is about (cs_, sub_, in_, ch_...). */
    objectId: text("object_id"),
    payload: jsonb("payload").notNull(),
    status: text("status").$type<StripeEventStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** What processing did, for the admin: licenses issued, ignored reason... */
    result: jsonb("result").$type<Record<string, unknown>>(),
    /** "webhook" or "reconcile". */
    receivedVia: text("received_via").notNull().default("webhook"),
    receivedAt: ts("received_at").notNull().defaultNow(),
    processedAt: ts("processed_at"),
  },
  (t) => [
    index("stripe_events_status_idx").on(t.status, t.receivedAt),
    index("stripe_events_object_idx").on(t.objectId),
    // The admin list pages newest first by (received_at, id).
    index("stripe_events_received_idx").on(t.receivedAt, t.id),
  ],
);
