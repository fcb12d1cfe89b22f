import { lockBillingRoots, readDispute, saveDisputeFacts } from "../facts";
import { handler } from "./event-handler";
import { subscriptionsPaidBy, syncFollowers } from "./sync-followers";

/**
 * Disputes, read from the dispute itself: while open the licenses it concerns are suspended; won (or an inquiry
 * closed) reinstates them, lost revokes them.
 */
export const DISPUTE_EVENTS = ["charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"] as const;

export const disputeHandler = handler({
  objectPrefixes: ["dp_", "du_"],
  read: readDispute,
  apply: async (tx, actor, dispute) => {
    await lockBillingRoots(tx, { paymentIntentIds: [dispute.paymentIntentId ?? dispute.chargeId] });
    await saveDisputeFacts(tx, dispute);
    const subscriptionIds = await subscriptionsPaidBy(tx, dispute.paymentIntentId, dispute.chargeId);
    await lockBillingRoots(tx, { subscriptionIds });
    return syncFollowers(
      tx,
      actor,
      { subscriptionIds, paymentIntentIds: dispute.paymentIntentId ? [dispute.paymentIntentId] : [] },
      { disputeId: dispute.id, chargeId: dispute.chargeId, disputeStatus: dispute.status },
    );
  },
});
