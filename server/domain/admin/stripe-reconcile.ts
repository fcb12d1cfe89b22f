import { sql } from "drizzle-orm";
import { appState } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { enqueue } from "@/server/jobs/enqueue";

export const RECONCILE_REQUESTED_KEY = "stripe.reconcile_requested_at";

/**
 * Asks the worker to reconcile with Stripe now. The job key collapses repeated requests made before the
 * worker picks the first one up.
 */
export async function requestStripeReconcile(tx: DbOrTx) {
  await enqueue(tx, "stripe_reconcile", {}, { jobKey: "stripe_reconcile" });
}

/**
 * What the stripe_reconcile job does today: records that a run was asked for. The reconciliation itself
 * (re-reading recent Stripe events and subscriptions) is not built yet.
 */
export async function noteStripeReconcileRequested(tx: DbOrTx) {
  const at = now();
  await tx
    .insert(appState)
    .values({ key: RECONCILE_REQUESTED_KEY, value: at.toISOString(), updatedAt: at })
    .onConflictDoUpdate({ target: appState.key, set: { value: sql`excluded.value`, updatedAt: at } });
}
