import { and, asc, desc, eq, gte, inArray } from "drizzle-orm";
import { z } from "zod";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents, type WebhookDeliveryStatus } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { DAY_MS, now } from "@/server/domain/clock";
import { beforeTimestampCursor, CursorInput, isUuid, page, timestampText } from "@/server/domain/admin/cursor";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { Instant } from "@/server/domain/licensing/manual";
import { enqueue } from "@/server/jobs/enqueue";
import { deliveryJob, newMessageId } from "./emit";
import { WEBHOOK_EVENT_TYPE_LIST, WEBHOOK_TEST_EVENT } from "./event-types";
import { checkWebhookUrl, resolveWebhookHost, WebhookAddressError } from "./outbound";
import { generateWebhookSecret, sealWebhookSecret } from "./signing";

/**
 * Webhook endpoints as operators manage them (the admin app and /api/v1/admin/webhooks share these functions).
 * Each runs in the caller's transaction and writes its audit row there. The secret is returned once, by create
 * and rotate; it is stored sealed and never shown again.
 */

/** How long the secret before a rotation keeps signing (a second signature) so receivers can switch over. */
export const PREVIOUS_SECRET_VALID_MS = DAY_MS;
/** At most this many events per replay request. */
export const MAX_REPLAY_EVENTS = 1000;

const WebhookUrl = storableText(1, 2000);
const WebhookEvents = z.array(z.enum(WEBHOOK_EVENT_TYPE_LIST)).min(1).max(WEBHOOK_EVENT_TYPE_LIST.length);
const Description = storableText(0, 500);

export const CreateWebhookInput = z.strictObject({ url: WebhookUrl, events: WebhookEvents, description: Description.optional() });
export type CreateWebhookInput = z.infer<typeof CreateWebhookInput>;
export const UpdateWebhookInput = z.strictObject({
  url: WebhookUrl.optional(),
  events: WebhookEvents.optional(),
  description: Description.nullable().optional(),
  enabled: z.boolean().optional(),
});
export type UpdateWebhookInput = z.infer<typeof UpdateWebhookInput>;
export const ListWebhookDeliveriesInput = z.strictObject({
  status: z.enum(["pending", "delivered", "failed"]).optional(),
  cursor: CursorInput.optional(),
  // Coerced: the REST route reads it from the query string.
  limit: z.coerce.number().int().min(1).max(100).optional(),
});
export type ListWebhookDeliveriesInput = z.infer<typeof ListWebhookDeliveriesInput>;
/** Replay one delivery's event again, or every event of the endpoint's types since an instant. */
export const ReplayWebhookInput = z.union([
  z.strictObject({ deliveryId: z.string().min(1).max(100) }),
  z.strictObject({ since: Instant }),
]);
export type ReplayWebhookInput = z.infer<typeof ReplayWebhookInput>;

export const WebhookView = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  description: z.string().nullable(),
  /** Set when Keystead disabled it (five days of failures). */
  disabledReason: z.string().nullable(),
  failingSince: z.string().nullable(),
  /** Until when the secret before the last rotation still signs. */
  previousSecretExpiresAt: z.string().nullable(),
  createdAt: z.string(),
});
export type WebhookView = z.infer<typeof WebhookView>;
export const WebhookCreated = z.object({ webhook: WebhookView, secret: z.string() });
export const WebhookList = z.object({ data: z.array(WebhookView) });
export const WebhookAnswer = z.object({ webhook: WebhookView });
export const WebhookSecretRotated = z.object({ webhook: WebhookView, secret: z.string(), previousSecretExpiresAt: z.string() });
export const WebhookAttemptView = z.object({
  id: z.string(),
  attemptedAt: z.string(),
  statusCode: z.number().nullable(),
  latencyMs: z.number(),
  /** The first bytes (up to 1 KiB) of the receiver's answer. */
  response: z.string().nullable(),
  error: z.string().nullable(),
  trigger: z.enum(["schedule", "manual"]),
});
export const WebhookDeliveryView = z.object({
  id: z.string(),
  /** The event id: the webhook-id header of every attempt. */
  eventId: z.string(),
  type: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  log: z.array(WebhookAttemptView),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryView>;
export const WebhookDeliveryList = z.object({ data: z.array(WebhookDeliveryView), nextCursor: z.string().nullable() });
export const WebhookDeliveryAnswer = z.object({ delivery: WebhookDeliveryView });
export const WebhookReplayed = z.object({ replayed: z.number(), deliveries: z.array(z.string()) });

type EndpointRow = typeof webhookEndpoints.$inferSelect;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toWebhookView(e: EndpointRow): WebhookView {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    enabled: e.enabled,
    description: e.description,
    disabledReason: e.disabledReason,
    failingSince: iso(e.failingSince),
    previousSecretExpiresAt: e.previousSecretExpiresAt && e.previousSecretExpiresAt > now() ? e.previousSecretExpiresAt.toISOString() : null,
    createdAt: e.createdAt.toISOString(),
  };
}

/** The URL checked and its host resolved: a private address is refused unless WEBHOOK_ALLOW_PRIVATE=1. */
async function checkTarget(raw: string): Promise<string> {
  const url = checkWebhookUrl(raw);
  if (typeof url === "string") throw new AppError("BAD_REQUEST", url, { field: "url" });
  try {
    await resolveWebhookHost(url.hostname);
  } catch (err) {
    if (err instanceof WebhookAddressError) throw new AppError("BAD_REQUEST", err.message, { field: "url" });
    throw err;
  }
  return url.toString();
}

const notFound = () => new AppError("NOT_FOUND", "There is no webhook endpoint with that id.");

async function lockEndpoint(tx: Tx, id: string): Promise<EndpointRow> {
  const [row] = isUuid(id) ? await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for("update") : [];
  if (!row) throw notFound();
  return row;
}

const auditView = (e: EndpointRow) => ({ url: e.url, events: e.events, enabled: e.enabled, description: e.description });

export async function createWebhook(tx: Tx, actor: Actor, input: CreateWebhookInput) {
  const url = await checkTarget(input.url);
  const secret = generateWebhookSecret();
  const at = now();
  const [row] = await tx
    .insert(webhookEndpoints)
    .values({
      url,
      events: [...new Set(input.events)],
      description: input.description || null,
      secretCiphertext: sealWebhookSecret(secret),
      createdAt: at,
      updatedAt: at,
    })
    .returning();
  await recordAudit(tx, actor, { action: "webhook.created", subjectType: "webhook", subjectId: row!.id, after: auditView(row!) });
  return { webhook: toWebhookView(row!), secret };
}

export async function listWebhooks(tx: DbOrTx) {
  const rows = await tx.select().from(webhookEndpoints).orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
  return { data: rows.map(toWebhookView) };
}

export async function getWebhook(tx: DbOrTx, id: string) {
  const [row] = isUuid(id) ? await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)) : [];
  if (!row) throw notFound();
  return { webhook: toWebhookView(row) };
}

/** Changes the fields given. Enabling again clears the failure record: its five days start over. */
export async function updateWebhook(tx: Tx, actor: Actor, id: string, input: UpdateWebhookInput) {
  const before = await lockEndpoint(tx, id);
  const set: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: now() };
  if (input.url !== undefined) set.url = await checkTarget(input.url);
  if (input.events !== undefined) set.events = [...new Set(input.events)];
  if (input.description !== undefined) set.description = input.description || null;
  if (input.enabled !== undefined && input.enabled !== before.enabled) {
    set.enabled = input.enabled;
    if (input.enabled) Object.assign(set, { failingSince: null, disabledReason: null, disabledAt: null });
    else Object.assign(set, { disabledReason: null, disabledAt: now() });
  }
  const [after] = await tx.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning();
  await recordAudit(tx, actor, { action: "webhook.updated", subjectType: "webhook", subjectId: id, before: auditView(before), after: auditView(after!) });
  return { webhook: toWebhookView(after!) };
}

/** Removes the endpoint with its deliveries and their log; its queued jobs find nothing and stop. */
export async function deleteWebhook(tx: Tx, actor: Actor, id: string) {
  const before = await lockEndpoint(tx, id);
  await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  await recordAudit(tx, actor, { action: "webhook.deleted", subjectType: "webhook", subjectId: id, before: auditView(before) });
  return { deleted: true as const };
}

/**
 * A new secret, shown once. The one it replaces keeps signing beside it (two signatures in webhook-signature) for
 * 24 hours, so a receiver can switch over without dropping a message. Rotating again within those hours replaces
 * the previous secret: only the last two ever sign.
 */
export async function rotateWebhookSecret(tx: Tx, actor: Actor, id: string) {
  const before = await lockEndpoint(tx, id);
  const secret = generateWebhookSecret();
  const previousSecretExpiresAt = new Date(now().getTime() + PREVIOUS_SECRET_VALID_MS);
  const [after] = await tx
    .update(webhookEndpoints)
    .set({
      secretCiphertext: sealWebhookSecret(secret),
      previousSecretCiphertext: before.secretCiphertext,
      previousSecretExpiresAt,
      updatedAt: now(),
    })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  await recordAudit(tx, actor, {
    action: "webhook.secret_rotated",
    subjectType: "webhook",
    subjectId: id,
    after: { previousSecretExpiresAt: previousSecretExpiresAt.toISOString() },
  });
  return { webhook: toWebhookView(after!), secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() };
}

async function deliveryViews(tx: DbOrTx, rows: { delivery: typeof webhookDeliveries.$inferSelect; type: string }[]): Promise<WebhookDeliveryView[]> {
  const ids = rows.map((r) => r.delivery.id);
  const log = ids.length
    ? await tx.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, ids)).orderBy(desc(webhookAttempts.attemptedAt))
    : [];
  const byDelivery = new Map<string, (typeof log)[number][]>();
  for (const a of log) byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
  return rows.map(({ delivery: d, type }) => ({
    id: d.id,
    eventId: d.eventId,
    type,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    deliveredAt: iso(d.deliveredAt),
    createdAt: d.createdAt.toISOString(),
    log: (byDelivery.get(d.id) ?? []).map((a) => ({
      id: a.id,
      attemptedAt: a.attemptedAt.toISOString(),
      statusCode: a.statusCode,
      latencyMs: a.latencyMs,
      response: a.responseExcerpt,
      error: a.error,
      trigger: a.trigger,
    })),
  }));
}

/** The delivery log of one endpoint, newest first, each delivery with every attempt (status, latency, first bytes). */
export async function listWebhookDeliveries(tx: DbOrTx, id: string, input: ListWebhookDeliveriesInput = {}) {
  await getWebhook(tx, id);
  const limit = input.limit ?? 25;
  const where = [eq(webhookDeliveries.endpointId, id)];
  if (input.status) where.push(eq(webhookDeliveries.status, input.status as WebhookDeliveryStatus));
  if (input.cursor) where.push(beforeTimestampCursor(webhookDeliveries.createdAt, webhookDeliveries.id, input.cursor));
  const rows = await tx
    .select({ delivery: webhookDeliveries, type: webhookEvents.type, cursorAt: timestampText(webhookDeliveries.createdAt) })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit + 1);
  const { data, nextCursor } = page(rows, limit, (r) => [r.cursorAt, r.delivery.id]);
  return { data: await deliveryViews(tx, data), nextCursor };
}

async function deliveryOf(tx: DbOrTx, endpointId: string, deliveryId: string) {
  const [row] = isUuid(deliveryId)
    ? await tx
        .select({ delivery: webhookDeliveries, type: webhookEvents.type })
        .from(webhookDeliveries)
        .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
        .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
    : [];
  if (!row) throw new AppError("NOT_FOUND", "That endpoint has no delivery with that id.");
  return row;
}

/**
 * Tries a pending or failed delivery again now (same webhook-id and body). Its job replaces a scheduled one
 * (same job key). A delivered one is not sent again by retry: replay it.
 */
export async function retryWebhookDelivery(tx: Tx, actor: Actor, endpointId: string, deliveryId: string) {
  const endpoint = await lockEndpoint(tx, endpointId);
  const row = await deliveryOf(tx, endpointId, deliveryId);
  if (row.delivery.status === "delivered") {
    throw new AppError("INVALID_STATE", "This delivery was delivered; replay it to send the event again.", { status: "delivered" });
  }
  if (!endpoint.enabled) throw new AppError("INVALID_STATE", "The endpoint is disabled; enable it first.");
  await enqueue(tx, "deliver_webhook", { deliveryId, manual: true }, deliveryJob(endpointId, deliveryId));
  await recordAudit(tx, actor, { action: "webhook.delivery_retried", subjectType: "webhook", subjectId: endpointId, metadata: { deliveryId } });
  return { delivery: (await deliveryViews(tx, [row]))[0]! };
}

/**
 * Sends events again as new deliveries with the same webhook-id (receivers de-duplicate by it): one delivery's
 * event, or every stored event of the endpoint's types since an instant (at most 1,000, oldest first).
 */
export async function replayWebhook(tx: Tx, actor: Actor, endpointId: string, input: ReplayWebhookInput) {
  const endpoint = await lockEndpoint(tx, endpointId);
  if (!endpoint.enabled) throw new AppError("INVALID_STATE", "The endpoint is disabled; enable it first.");
  let eventIds: string[];
  if ("deliveryId" in input) {
    eventIds = [(await deliveryOf(tx, endpointId, input.deliveryId)).delivery.eventId];
  } else {
    const rows = await tx
      .select({ id: webhookEvents.id })
      .from(webhookEvents)
      .where(and(gte(webhookEvents.createdAt, new Date(input.since)), inArray(webhookEvents.type, endpoint.events)))
      .orderBy(asc(webhookEvents.createdAt))
      .limit(MAX_REPLAY_EVENTS + 1);
    if (rows.length > MAX_REPLAY_EVENTS) {
      throw new AppError("BAD_REQUEST", `More than ${MAX_REPLAY_EVENTS} events since then; replay a shorter span.`);
    }
    eventIds = rows.map((r) => r.id);
  }
  const deliveries = eventIds.length
    ? await tx
        .insert(webhookDeliveries)
        .values(eventIds.map((eventId) => ({ endpointId, eventId })))
        .returning({ id: webhookDeliveries.id })
    : [];
  for (const d of deliveries) await enqueue(tx, "deliver_webhook", { deliveryId: d.id }, deliveryJob(endpointId, d.id));
  await recordAudit(tx, actor, {
    action: "webhook.replayed",
    subjectType: "webhook",
    subjectId: endpointId,
    metadata: { events: eventIds.length, ...("since" in input ? { since: input.since } : { deliveryId: input.deliveryId }) },
  });
  return { replayed: deliveries.length, deliveries: deliveries.map((d) => d.id) };
}

/** A "webhook.test" event to this endpoint only, whatever it subscribes to: to check the receiver and its secret. */
export async function sendTestWebhook(tx: Tx, actor: Actor, endpointId: string) {
  const endpoint = await lockEndpoint(tx, endpointId);
  if (!endpoint.enabled) throw new AppError("INVALID_STATE", "The endpoint is disabled; enable it first.");
  const id = newMessageId();
  const timestamp = now().toISOString();
  await tx.insert(webhookEvents).values({
    id,
    type: WEBHOOK_TEST_EVENT,
    payload: { type: WEBHOOK_TEST_EVENT, timestamp, data: { webhook: { id: endpoint.id, url: endpoint.url } } },
    createdAt: new Date(timestamp),
  });
  const [d] = await tx.insert(webhookDeliveries).values({ endpointId, eventId: id }).returning();
  await enqueue(tx, "deliver_webhook", { deliveryId: d!.id }, deliveryJob(endpointId, d!.id));
  await recordAudit(tx, actor, { action: "webhook.test_sent", subjectType: "webhook", subjectId: endpointId, metadata: { eventId: id } });
  return { delivery: (await deliveryViews(tx, [{ delivery: d!, type: WEBHOOK_TEST_EVENT }]))[0]! };
}

