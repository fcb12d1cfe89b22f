import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import { webhookDeliveries, webhookEndpoints, webhookEvents } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { loadLicenseView, type ActivationView, type LicenseWithCustomer } from "@/server/domain/licensing/view";
import { enqueue } from "@/server/jobs/enqueue";
import type { WebhookEventType } from "./event-types";

export const newMessageId = () => `msg_${crypto.randomBytes(16).toString("hex")}`;

/** The graphile-worker job key of a delivery: a manual retry replaces a scheduled one instead of doubling it. */
export const deliveryJobKey = (deliveryId: string) => `webhook:${deliveryId}`;

/** How a delivery's job is queued (its retries, a manual retry and a replay alike). */
export const deliveryJob = (_endpointId: string, deliveryId: string, runAt?: Date) => ({
  jobKey: deliveryJobKey(deliveryId),
  maxAttempts: 5,
  ...(runAt ? { runAt } : {}),
});

/**
 * Reports a change to the webhook endpoints, inside the caller's transaction: the event row (its id is the
 * `webhook-id` of every delivery), one delivery per enabled endpoint subscribed to the type, and a delivery job
 * for each, all committed or rolled back with the change itself. The domain functions that make changes call
 * this, so every door (tRPC, REST, Stripe, sweeps) emits without remembering to.
 *
 * With no endpoint at all nothing is written (one indexed read of a tiny table). With endpoints, the event is
 * stored even when none subscribes, so a replay to an endpoint can reach events it missed.
 */
export async function emitWebhookEvent(tx: DbOrTx, type: WebhookEventType, data: Record<string, unknown>): Promise<string | null> {
  const endpoints = await tx
    .select({ id: webhookEndpoints.id, enabled: webhookEndpoints.enabled, events: webhookEndpoints.events })
    .from(webhookEndpoints);
  if (endpoints.length === 0) return null;
  const id = newMessageId();
  const timestamp = now().toISOString();
  await tx.insert(webhookEvents).values({ id, type, payload: { type, timestamp, data }, createdAt: new Date(timestamp) });
  const to = endpoints.filter((e) => e.enabled && e.events.includes(type));
  if (to.length === 0) return id;
  const rows = await tx
    .insert(webhookDeliveries)
    .values(to.map((e) => ({ endpointId: e.id, eventId: id })))
    .returning({ id: webhookDeliveries.id, endpointId: webhookDeliveries.endpointId });
  for (const r of rows) await enqueue(tx, "deliver_webhook", { deliveryId: r.id }, deliveryJob(r.endpointId, r.id));
  return id;
}

/** True when some endpoint exists: callers skip loading a payload nobody will get. */
export async function anyWebhookEndpoint(tx: DbOrTx): Promise<boolean> {
  const { rows } = await tx.execute<{ one: number }>(sql`select 1 as one from ${webhookEndpoints} limit 1`);
  return rows.length > 0;
}

/** A license event: `data.license` is the License shape with its customer, as the management API shows it. */
export async function emitLicenseEvent(
  tx: DbOrTx,
  type: WebhookEventType,
  licenseId: string,
  extra: Record<string, unknown> = {},
): Promise<string | null> {
  if (!(await anyWebhookEndpoint(tx))) return null;
  const license = await loadLicenseView(tx, licenseId);
  if (!license) return null;
  return emitWebhookEvent(tx, type, { license, ...extra });
}

/** An activation event: the Activation shape, and the license (after the change) it belongs to. */
export async function emitActivationEvent(
  tx: DbOrTx,
  type: "activation.created" | "activation.deleted",
  licenseId: string,
  activations: Array<{ id: string; fingerprint: string; name: string | null; platform: string | null; createdAt: Date; lastSeenAt: Date }>,
  extra: Record<string, unknown> = {},
) {
  if (activations.length === 0 || !(await anyWebhookEndpoint(tx))) return;
  const license = await loadLicenseView(tx, licenseId);
  if (!license) return;
  for (const a of activations) {
    const activation: ActivationView = {
      id: a.id,
      fingerprint: a.fingerprint,
      name: a.name,
      platform: a.platform,
      createdAt: a.createdAt.toISOString(),
      lastSeenAt: a.lastSeenAt.toISOString(),
    };
    await emitWebhookEvent(tx, type, { activation, license, ...extra });
  }
}

export type { LicenseWithCustomer };

/** customer.updated: the customer as it is now, and the email it had before. */
export async function emitCustomerUpdated(tx: DbOrTx, customer: { id: string; email: string; name: string | null }, previousEmail: string) {
  return emitWebhookEvent(tx, "customer.updated", {
    customer: { id: customer.id, email: customer.email, name: customer.name },
    previousEmail,
  });
}
