import { sql } from "drizzle-orm";
import { appState } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { RECONCILE_REQUESTED_KEY } from "@/server/domain/billing/reconcile";
import { enqueue } from "@/server/jobs/enqueue";

export { RECONCILE_REQUESTED_KEY };
export { reconciliationStatus, type ReconciliationStatus } from "@/server/domain/billing/reconcile";

/**
 * Asks the worker to reconcile with Stripe now (POST /api/v1/admin/stripe/reconcile), and notes when it was asked.
 * The job key collapses repeated requests made before the worker picks the first one up (and the scheduled run,
 * which uses the same key).
 */
export async function requestStripeReconcile(tx: DbOrTx) {
  const at = new Date().toISOString();
  await tx
    .insert(appState)
    .values({ key: RECONCILE_REQUESTED_KEY, value: at })
    .onConflictDoUpdate({ target: appState.key, set: { value: at, updatedAt: sql`now()` } });
  await enqueue(tx, "stripe_reconcile", {}, { jobKey: "stripe_reconcile" });
}
