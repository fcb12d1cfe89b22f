import { boolean, index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";

/**
 * Outgoing webhooks (Standard Webhooks). The rules live in server/domain/webhooks/.
 *
 * An endpoint is an operator's URL with the event types it wants. Its signing secret ("whsec_" + base64) is shown
 * once and stored sealed (server/domain/sealed-fields.ts); after a rotation the previous secret keeps signing too
 * (a second signature in webhook-signature) until previous_secret_expires_at.
 */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: id(),
  url: text("url").notNull(),
  description: text("description"),
  /** Event types delivered to it (server/domain/webhooks/event-types.ts). */
  events: text("events").array().notNull(),
  enabled: boolean("enabled").notNull().default(true),
  /** Sealed "whsec_…" (purpose "webhook-secret"). */
  secretCiphertext: text("secret_ciphertext").notNull(),
  /** The secret before the last rotation, sealed; it signs too until previous_secret_expires_at. */
  previousSecretCiphertext: text("previous_secret_ciphertext"),
  previousSecretExpiresAt: ts("previous_secret_expires_at"),
  /** First failed attempt since the last delivered one; five days of failure disable the endpoint. */
  failingSince: ts("failing_since"),
  /** Why it is disabled, when it was not the operator's choice (five days of failures). */
  disabledReason: text("disabled_reason"),
  disabledAt: ts("disabled_at"),
  createdAt: createdAt(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/**
 * One row per event Keystead emitted while at least one endpoint existed, written in the transaction of the change it
 * reports. Its id is the `webhook-id` of every delivery of it: the same on every retry and replay, so receivers
 * can de-duplicate. `payload` is the exact body sent: `{ type, timestamp, data }`.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    payload: jsonb("payload").$type<{ type: string; timestamp: string; data: Record<string, unknown> }>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_events_created_idx").on(t.createdAt)],
);

/** pending: an attempt is due (or scheduled); delivered: a 2xx came back; failed: every attempt failed (or the endpoint was disabled). */
export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event owed to one endpoint. A replay adds another row for the same event and endpoint. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: id(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    status: text("status").$type<WebhookDeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at"),
    /** The last attempt's answer, for the list; every attempt is in webhook_attempts. */
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    deliveredAt: ts("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    // The delivery log pages newest first per endpoint.
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
    index("webhook_deliveries_event_idx").on(t.eventId),
  ],
);

/** The delivery log: every attempt, with what came back (status, latency, the first bytes of the answer). */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: id(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    /** null: no HTTP answer (refused address, connection error, timeout): see error. */
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    /** The first bytes of the answer's body (at most 1 KiB, as text). */
    responseExcerpt: text("response_excerpt"),
    error: text("error"),
    /** manual: an operator's retry; otherwise the worker's own schedule. */
    trigger: text("trigger").$type<"schedule" | "manual">().notNull().default("schedule"),
    attemptedAt: ts("attempted_at").notNull().defaultNow(),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attemptedAt)],
);
