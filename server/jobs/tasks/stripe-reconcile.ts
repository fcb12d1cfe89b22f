import { env } from "@/server/env";
import { reconcileStripeEvents } from "@/server/domain/billing/reconcile";
import { defineTask } from "../define-task";
import { logger } from "@/server/observability/log";

// Every 10 minutes (crontab.ts) and on POST /api/v1/admin/stripe/reconcile. A failed run records its error for the
// admin and completes: the next scheduled run is the retry.
export const stripeReconcileTask = defineTask("stripe_reconcile", async () => {
  const run = await reconcileStripeEvents();
  // Without Stripe keys every run fails the same way, and the worker said so once when it started.
  if (run.error && env().STRIPE_SECRET_KEY) logger().warn(`[keystead] Stripe reconciliation stopped: ${run.error}`);
  else if (run.stored > 0) logger().info(`[keystead] Stripe reconciliation found ${run.stored} missed event(s) of ${run.listed} listed`);
});
