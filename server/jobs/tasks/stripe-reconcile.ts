import { db } from "@/server/db/client";
import { noteStripeReconcileRequested } from "@/server/domain/admin/stripe-reconcile";
import { defineTask } from "../define-task";

// Queued by POST /api/v1/admin/stripe/reconcile. Only records the request for now: reconciliation is a later issue.
export const stripeReconcileTask = defineTask("stripe_reconcile", async () => {
  await noteStripeReconcileRequested(db());
  console.warn("[keystead] Stripe reconciliation was requested, but it is not built yet: nothing was reconciled.");
});
