import { and, eq, isNotNull, sql } from "drizzle-orm";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "@/server/db/schema";
import type { Db, Tx } from "@/server/db/client";
import { SYSTEM, recordAudit } from "@/server/domain/audit/record";
import { DAY_MS, now } from "@/server/domain/clock";
import { queueEmail } from "@/server/domain/mail/queue";
import { enqueue } from "@/server/jobs/enqueue";
import { env } from "@/server/env";
import { deliveryJob } from "./emit";
import { postWebhook, type PostOutcome } from "./outbound";
import { openWebhookSecret, signedHeaders } from "./signing";

/**
 * The wait after each failed attempt: twelve attempts over about 2.8 days (the first at once), like the Standard
 * Webhooks providers' schedules. After the last, the delivery is failed; an operator can still retry it by hand.
 */
export const RETRY_SCHEDULE_MS = [
  5_000, 60_000, 5 * 60_000, 30 * 60_000, 3_600_000, 2 * 3_600_000, 4 * 3_600_000, 8 * 3_600_000, 12 * 3_600_000,
  16 * 3_600_000, 24 * 3_600_000,
];
export const MAX_WEBHOOK_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;

/** An endpoint whose attempts have all failed for this long (none delivered since) is disabled, and the operators told. */
export const DISABLE_AFTER_MS = 5 * DAY_MS;

export type WebhookAttemptOutcome =
  | { outcome: "delivered"; statusCode: number }
  | { outcome: "retrying"; attempts: number; nextAttemptAt: Date }
  | { outcome: "failed"; attempts: number; endpointDisabled: boolean }
  | { outcome: "skipped"; reason: "missing" | "delivered" | "failed" | "endpoint disabled" };

/**
 * One attempt of one delivery (the deliver_webhook job; `manual` for an operator's retry). No transaction is held
 * while the receiver answers: the delivery is read, the body signed and POSTed, then what came back is recorded
 * in one transaction with the next attempt's job (our own backoff, so the schedule spans days; graphile-worker's
 * own retries only cover a database failure). The body is the stored payload byte for byte and webhook-id is the
 * event's id, so every retry and replay is the same message; webhook-timestamp is the attempt's own (wall clock),
 * since receivers check it against theirs.
 */
export async function deliverWebhook(db: Db, deliveryId: string, opts: { manual?: boolean } = {}): Promise<WebhookAttemptOutcome> {
  const [found] = await db
    .select({ delivery: webhookDeliveries, event: webhookEvents, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!found) return { outcome: "skipped", reason: "missing" };
  const { delivery, event, endpoint } = found;
  if (delivery.status === "delivered") return { outcome: "skipped", reason: "delivered" };
  if (delivery.status === "failed" && !opts.manual) return { outcome: "skipped", reason: "failed" };
  if (!endpoint.enabled) {
    await db
      .update(webhookDeliveries)
      .set({ status: "failed", nextAttemptAt: null, lastError: "The endpoint is disabled." })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "pending")));
    return { outcome: "skipped", reason: "endpoint disabled" };
  }

  const at = now();
  const secrets = [openWebhookSecret(endpoint.secretCiphertext)];
  if (endpoint.previousSecretCiphertext && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > at) {
    secrets.push(openWebhookSecret(endpoint.previousSecretCiphertext));
  }
  // jsonb gives the payload back with its keys reordered: the body is serialised in one fixed order here, so
  // every attempt sends the same bytes.
  const body = JSON.stringify({ type: event.payload.type, timestamp: event.payload.timestamp, data: event.payload.data });
  const result = await postWebhook(endpoint.url, signedHeaders(event.id, new Date(), body, secrets), body);
  return db.transaction((tx) => record(tx, delivery.id, endpoint.id, result, opts.manual ?? false));
}

async function record(tx: Tx, deliveryId: string, endpointId: string, result: PostOutcome, manual: boolean): Promise<WebhookAttemptOutcome> {
  const at = now();
  const delivered = result.ok && result.statusCode >= 200 && result.statusCode < 300;
  const error = result.ok ? (delivered ? null : `HTTP ${result.statusCode}`) : result.error;
  const attempt = {
    deliveryId,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    responseExcerpt: result.excerpt,
    error: error ? truncate(error, 500) : null,
    trigger: manual ? ("manual" as const) : ("schedule" as const),
    attemptedAt: at,
  };

  if (delivered) {
    // The common case in three statements and no row lock on the endpoint, so many deliveries to one endpoint
    // commit side by side; its failure record is cleared only when there is one.
    const [done] = await tx
      .update(webhookDeliveries)
      .set({ status: "delivered", attempts: sql`${webhookDeliveries.attempts} + 1`, lastStatusCode: result.statusCode, lastError: null, nextAttemptAt: null, deliveredAt: at })
      .where(eq(webhookDeliveries.id, deliveryId))
      .returning({ id: webhookDeliveries.id });
    if (!done) return { outcome: "skipped", reason: "missing" };
    await tx.insert(webhookAttempts).values(attempt);
    await tx
      .update(webhookEndpoints)
      .set({ failingSince: null })
      .where(and(eq(webhookEndpoints.id, endpointId), isNotNull(webhookEndpoints.failingSince)));
    return { outcome: "delivered", statusCode: result.statusCode! };
  }

  const [delivery] = await tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, deliveryId)).for("update");
  const [endpoint] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)).for("update");
  if (!delivery || !endpoint) return { outcome: "skipped", reason: "missing" };
  await tx.insert(webhookAttempts).values(attempt);
  const attempts = delivery.attempts + 1;

  // A delivered one (a racing attempt, a retry of a delivered replay) stays delivered.
  if (delivery.status === "delivered") return { outcome: "skipped", reason: "delivered" };
  const failingSince = endpoint.failingSince ?? at;
  if (!endpoint.failingSince) await tx.update(webhookEndpoints).set({ failingSince: at }).where(eq(webhookEndpoints.id, endpointId));
  const disabled = endpoint.enabled && at.getTime() - failingSince.getTime() >= DISABLE_AFTER_MS;
  if (disabled) await disableFailingEndpoint(tx, endpoint, failingSince);

  // A manual retry of a failed delivery is one more try, not a new schedule; of a pending one it replaced the
  // scheduled job (same job key), so it counts as that attempt and the schedule goes on.
  const more = !disabled && !(manual && delivery.status === "failed") && attempts < MAX_WEBHOOK_ATTEMPTS;
  if (!more) {
    await tx
      .update(webhookDeliveries)
      .set({ status: "failed", attempts, lastStatusCode: result.statusCode, lastError: error, nextAttemptAt: null })
      .where(eq(webhookDeliveries.id, deliveryId));
    return { outcome: "failed", attempts, endpointDisabled: disabled };
  }
  const nextAttemptAt = new Date(Date.now() + RETRY_SCHEDULE_MS[attempts - 1]!);
  await tx
    .update(webhookDeliveries)
    .set({ status: "pending", attempts, lastStatusCode: result.statusCode, lastError: error, nextAttemptAt })
    .where(eq(webhookDeliveries.id, deliveryId));
  // The job runs on the queue's (wall) clock.
  await enqueue(tx, "deliver_webhook", { deliveryId }, deliveryJob(endpointId, deliveryId, nextAttemptAt));
  return { outcome: "retrying", attempts, nextAttemptAt };
}

/**
 * Five days of nothing but failures: the endpoint is disabled (its pending deliveries fail when their next attempt
 * comes), the change audited, and every operator (ADMIN_EMAILS) emailed once for this run of failures.
 */
async function disableFailingEndpoint(tx: Tx, endpoint: typeof webhookEndpoints.$inferSelect, failingSince: Date) {
  const at = now();
  const reason = `Every delivery failed for 5 days (since ${failingSince.toISOString()}).`;
  const changed = await tx
    .update(webhookEndpoints)
    .set({ enabled: false, disabledReason: reason, disabledAt: at, updatedAt: at })
    .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.enabled, true)))
    .returning({ id: webhookEndpoints.id });
  if (changed.length === 0) return;
  await recordAudit(tx, SYSTEM, {
    action: "webhook.disabled",
    subjectType: "webhook",
    subjectId: endpoint.id,
    before: { enabled: true },
    after: { enabled: false, reason },
  });
  for (const to of env().ADMIN_EMAILS) {
    await queueEmail(tx, {
      dedupeKey: `webhook-disabled:${endpoint.id}:${failingSince.toISOString()}:${to}`,
      template: "webhook-disabled",
      to,
      props: { endpointId: endpoint.id, url: endpoint.url, failingSince: failingSince.toISOString() },
    });
  }
  if (env().ADMIN_EMAILS.length === 0) {
    console.warn(`[webhooks] endpoint ${endpoint.id} disabled after 5 days of failures; no ADMIN_EMAILS to tell.`);
  }
}

const truncate = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
