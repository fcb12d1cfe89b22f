import type Stripe from "stripe";
import { lockBillingRoots, readCharge, saveChargeFacts, type ChargeFacts } from "../facts";
import { handler } from "./event-handler";
import { subscriptionsPaidBy, syncFollowers } from "./sync-followers";
import type { Tx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";

/**
 * Refunds, read from the charge (Stripe's amount_refunded and `refunded` are the truth, whichever refund event
 * pointed at it). A full refund revokes a one-time purchase and gives back a subscription invoice's period; a
 * partial one is recorded and changes nothing.
 */
export const CHARGE_EVENTS = ["charge.refunded"] as const;
export const REFUND_EVENTS = ["refund.created", "refund.updated", "charge.refund.updated"] as const;

export async function applyChargeFacts(tx: Tx, actor: Actor, charge: ChargeFacts) {
  // The payment's lock before anything is read: the purchase or invoice it refunds may be landing right now.
  await lockBillingRoots(tx, { paymentIntentIds: [charge.paymentIntentId ?? charge.id] });
  await saveChargeFacts(tx, charge);
  const subscriptionIds = await subscriptionsPaidBy(tx, charge.paymentIntentId, charge.id);
  await lockBillingRoots(tx, { subscriptionIds });
  return syncFollowers(
    tx,
    actor,
    { subscriptionIds, paymentIntentIds: charge.paymentIntentId ? [charge.paymentIntentId] : [] },
    { chargeId: charge.id, amount: charge.amount, amountRefunded: charge.amountRefunded, refunded: charge.refunded },
  );
}

export const chargeHandler = handler({
  objectPrefixes: ["ch_", "py_"],
  read: readCharge,
  apply: applyChargeFacts,
});

export const refundHandler = handler({
  objectPrefixes: ["re_", "pyr_"],
  read: async (stripe: Stripe, id: string) => {
    const refund = await stripe.refunds.retrieve(id);
    const chargeId = typeof refund.charge === "string" ? refund.charge : refund.charge?.id;
    if (!chargeId) throw new Error(`Refund ${id} names no charge yet.`);
    return readCharge(stripe, chargeId);
  },
  apply: applyChargeFacts,
});
