import { eq, inArray, or } from "drizzle-orm";
import { licenses, payments } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { syncLicenses } from "../license-state";
import type { Settlement } from "./event-handler";

/**
 * The Stripe-sold licenses that follow these subscriptions or were bought with these payment intents, brought in
 * line with the facts. None yet (the event came before the checkout that issues them) is not an error: the facts
 * are kept and apply when the checkout lands.
 */
export async function syncFollowers(
  tx: Tx,
  actor: Actor,
  roots: { subscriptionIds?: string[]; paymentIntentIds?: string[] },
  about: Record<string, unknown>,
): Promise<Settlement> {
  const subs = [...new Set(roots.subscriptionIds ?? [])];
  const pis = [...new Set(roots.paymentIntentIds ?? [])];
  const conds = [];
  if (subs.length) conds.push(inArray(licenses.stripeSubscriptionId, subs));
  if (pis.length) conds.push(inArray(licenses.stripePaymentIntentId, pis));
  const ids = conds.length
    ? (await tx.select({ id: licenses.id }).from(licenses).where(conds.length === 1 ? conds[0] : or(...conds))).map((r) => r.id)
    : [];
  if (ids.length === 0) {
    return {
      status: "processed",
      result: {
        ...about,
        licenses: [],
        waiting: "No license follows this yet; the facts are kept and apply when its checkout is processed.",
      },
    };
  }
  const synced = await syncLicenses(tx, actor, ids);
  return { status: "processed", result: { ...about, licenses: synced } };
}

/** Subscriptions whose invoices were paid by this charge (found through the payments we recorded). */
export async function subscriptionsPaidBy(tx: Tx, paymentIntentId: string | null, chargeId: string): Promise<string[]> {
  const rows = await tx
    .select({ sub: payments.stripeSubscriptionId })
    .from(payments)
    .where(
      paymentIntentId
        ? or(eq(payments.stripePaymentIntentId, paymentIntentId), eq(payments.stripeChargeId, chargeId))
        : eq(payments.stripeChargeId, chargeId),
    );
  return [...new Set(rows.map((r) => r.sub).filter((s): s is string => !!s))].sort();
}
