// POST /api/stripe/webhook: verify the raw body -> store the event + queue its processing in one tx -> 200.
import { db } from "@/server/db/client";
import { env } from "@/server/env";
import { isAppError } from "@/server/domain/errors";
import { acceptWebhookEvent, noteRejectedWebhook, verifyStripeWebhook } from "@/server/domain/billing/webhook";
import { readBodyText } from "@/server/rest/body";
import { limit, toErrorResponse } from "@/server/rest/handler";
import { clientIp } from "@/server/rest/rate-limit";

export const dynamic = "force-dynamic";

// Stripe's events are a few KB; this only bounds what an unauthenticated caller can make us buffer.
const MAX_BODY_BYTES = 1024 * 1024;

export async function POST(req: Request) {
  try {
    // The signature covers the exact bytes Stripe sent: read them raw, never re-serialize parsed JSON. Read
    // while they stream, so an unannounced (chunked) flood is refused at the limit instead of buffered.
    const raw = await readBodyText(req, MAX_BODY_BYTES);
    const event = verifyStripeWebhook(raw, req.headers.get("stripe-signature"), env().STRIPE_WEBHOOK_SECRET);
    // A redelivered event is answered 200 as well: Stripe stops retrying, and it is never processed twice.
    await acceptWebhookEvent(db(), event);
    return Response.json({ received: true });
  } catch (err) {
    noteRejectedWebhook(db(), err);
    // Stripe itself is never limited; callers that cannot sign are, per IP (RATE_LIMIT_IP a minute).
    if (isAppError(err) && err.code === "INVALID_SIGNATURE") {
      try {
        await limit(`webhook-bad-signature:${clientIp(req)}`, env().RATE_LIMIT_IP);
      } catch (limited) {
        return toErrorResponse(limited);
      }
    }
    return toErrorResponse(err);
  }
}
