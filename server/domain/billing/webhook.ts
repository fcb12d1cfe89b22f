import Stripe from "stripe";
import { sql } from "drizzle-orm";
import { appState } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { AppError } from "@/server/domain/errors";
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
  return db.transaction(async (tx) => {
    const stored = await storeStripeEvent(tx, event, "webhook");
    // Last, so the hot app_state row is locked for as short a time as possible under bursts of deliveries.
    const value = { at: new Date().toISOString(), eventId: event.id, type: event.type };
    await tx
      .insert(appState)
      .values({ key: WEBHOOK_LAST_SEEN_KEY, value })
      .onConflictDoUpdate({ target: appState.key, set: { value, updatedAt: sql`now()` } });
    return { stored };
  });
}
