import Stripe from "stripe";
import { sql } from "drizzle-orm";
import { appState } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/domain/errors";
import { logger } from "@/server/observability/log";
import { metrics } from "@/server/observability/metrics";
import { StripeEventEnvelope, storeStripeEvent } from "./store-event";

/** Stripe's own default, and the contract's: a signature more than five minutes off is refused. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
export const WEBHOOK_LAST_SEEN_KEY = "stripe.webhook_last_seen";

/**
 * Checks a webhook delivery against the raw body exactly as received, then parses it. Every refusal is an
 * AppError: INVALID_SIGNATURE for anything we cannot prove came from Stripe just now, NOT_CONFIGURED when there
 * is no secret to check with (refusing loudly beats accepting unverified payment events).
 */
export function verifyStripeWebhook(
  rawBody: string,
  signatureHeader: string | null,
  secret: string | undefined,
  nowMs = Date.now(),
): StripeEventEnvelope {
  if (!secret) {
    throw new AppError("NOT_CONFIGURED", "STRIPE_WEBHOOK_SECRET is not set, so Stripe webhooks cannot be verified.");
  }
  if (!signatureHeader) {
    throw new AppError("INVALID_SIGNATURE", "The Stripe-Signature header is missing.");
  }
  let parsed: unknown;
  try {
    parsed = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, WEBHOOK_TOLERANCE_SECONDS, undefined, nowMs);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw new AppError("INVALID_SIGNATURE", `The Stripe signature is not valid: ${err.message.split("\n")[0]}`);
    }
    // The signature matched, so this came from Stripe, but the body is not JSON.
    throw new AppError("BAD_REQUEST", "The webhook body is not valid JSON.");
  }
  // The SDK only refuses old timestamps; a header dated far in the future is as suspicious as a stale one.
  const timestamp = Number(/(?:^|,)\s*t=(\d+)/.exec(signatureHeader)?.[1]);
  if (!Number.isFinite(timestamp) || timestamp - nowMs / 1000 > WEBHOOK_TOLERANCE_SECONDS) {
    throw new AppError("INVALID_SIGNATURE", "The Stripe signature timestamp is outside the tolerance zone.");
  }
  if (!StripeEventEnvelope.safeParse(parsed).success) {
    throw new AppError("BAD_REQUEST", "The webhook body is not a Stripe event.");
  }
  // The parsed body itself, not zod's output: every field Stripe sent is kept (previous_attributes...).
  return parsed as StripeEventEnvelope;
}

/**
 * A verified webhook delivery: the event stored and its processing queued (when new), and the "webhook last
 * seen" mark for the admin's health view, all in one transaction.
 */
export async function acceptWebhookEvent(db: Db, event: StripeEventEnvelope): Promise<{ stored: boolean }> {
  const accepted = await db.transaction(async (tx) => {
    const stored = await storeStripeEvent(tx, event, "webhook");
    // Last, so the hot app_state row is locked for as short a time as possible under bursts of deliveries.
    const value = { at: new Date().toISOString(), eventId: event.id, type: event.type };
    await tx
      .insert(appState)
      .values({ key: WEBHOOK_LAST_SEEN_KEY, value })
      .onConflictDoUpdate({ target: appState.key, set: { value, updatedAt: sql`now()` } });
    return { stored };
  });
  // How far behind Stripe we are (its retries after an outage show here as hours), first deliveries only.
  if (accepted.stored) metrics().webhookLag.observe(Math.max(0, Date.now() / 1000 - event.created));
  logger().debug({ eventId: event.id, type: event.type, stored: accepted.stored }, "[stripe] webhook event accepted");
  return accepted;
}

/**
 * Deliveries refused before anything was stored (bad or missing signature, no secret to check with), counted so
 * the admin can tell "Stripe never called" from "Stripe calls and we refuse it". Anyone can post garbage here,
 * so a refusal never costs a write of its own: refusals add up in memory and reach app_state as one upsert at
 * most every REJECTION_FLUSH_MS per process, the first one after a quiet spell at once.
 */
export const WEBHOOK_REJECTED_KEY = "stripe.webhook_rejected";
const REJECTION_FLUSH_MS = 5_000;

export type WebhookRejectionReason = "invalid_signature" | "not_configured";
export type WebhookRejections = {
  count: number;
  invalidSignature: number;
  notConfigured: number;
  lastAt: string;
  lastReason: WebhookRejectionReason;
};

type PendingRejections = Omit<WebhookRejections, "count">;
type RejectionBuffer = { pending: PendingRejections | null; timer: NodeJS.Timeout | null; lastFlushAt: number };
// One buffer per process: Next bundles route handlers separately, so it lives on globalThis.
const rejections = ((globalThis as unknown as { __keysteadWebhookRejections?: RejectionBuffer }).__keysteadWebhookRejections ??= {
  pending: null,
  timer: null,
  lastFlushAt: 0,
});

const REASON_BY_CODE: Partial<Record<string, WebhookRejectionReason>> = {
  INVALID_SIGNATURE: "invalid_signature",
  NOT_CONFIGURED: "not_configured",
};

/** Called by the webhook route for every failed delivery; counts the refusals that mean "not from us or unverifiable". */
export function noteRejectedWebhook(db: Db, err: unknown): void {
  const reason = err instanceof AppError ? REASON_BY_CODE[err.code] : undefined;
  if (!reason) return;
  const p = (rejections.pending ??= { invalidSignature: 0, notConfigured: 0, lastAt: "", lastReason: reason });
  if (reason === "invalid_signature") p.invalidSignature++;
  else p.notConfigured++;
  p.lastAt = new Date().toISOString();
  p.lastReason = reason;
  if (rejections.timer) return;
  const wait = Math.max(0, rejections.lastFlushAt + REJECTION_FLUSH_MS - Date.now());
  rejections.timer = setTimeout(() => void flushRejections(db), wait);
  rejections.timer.unref();
}

async function flushRejections(db: Db) {
  const batch = rejections.pending;
  rejections.pending = null;
  rejections.timer = null;
  rejections.lastFlushAt = Date.now();
  if (!batch) return;
  const added = batch.invalidSignature + batch.notConfigured;
  const old = (field: string) => sql`coalesce((${appState.value}->>${field})::bigint, 0)`;
  // Two processes may flush at once: counts add up, and the latest refusal wins whichever commits last.
  const later = sql`${batch.lastAt}::text >= coalesce(${appState.value}->>'lastAt', '')`;
  try {
    await db
      .insert(appState)
      .values({ key: WEBHOOK_REJECTED_KEY, value: { count: added, ...batch } })
      .onConflictDoUpdate({
        target: appState.key,
        set: {
          value: sql`jsonb_build_object(
            'count', ${old("count")} + ${added}::bigint,
            'invalidSignature', ${old("invalidSignature")} + ${batch.invalidSignature}::bigint,
            'notConfigured', ${old("notConfigured")} + ${batch.notConfigured}::bigint,
            'lastAt', case when ${later} then ${batch.lastAt}::text else ${appState.value}->>'lastAt' end,
            'lastReason', case when ${later} then ${batch.lastReason}::text else ${appState.value}->>'lastReason' end)`,
          updatedAt: sql`now()`,
        },
      });
  } catch (err) {
    logger().error(`[stripe] could not record ${added} rejected webhook deliveries: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function parseWebhookRejections(value: unknown): WebhookRejections | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (typeof v.lastAt !== "string" || typeof v.count !== "number") return null;
  return {
    count: v.count,
    invalidSignature: typeof v.invalidSignature === "number" ? v.invalidSignature : 0,
    notConfigured: typeof v.notConfigured === "number" ? v.notConfigured : 0,
    lastAt: v.lastAt,
    lastReason: v.lastReason === "not_configured" ? "not_configured" : "invalid_signature",
  };
}
