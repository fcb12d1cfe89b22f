import { lockBillingRoots, readSubscription, saveSubscriptionFacts } from "../facts";
import { handler } from "./event-handler";
import { syncFollowers } from "./sync-followers";

/** The subscription events Keystead acts on; all of them re-read the subscription and derive from it. */
export const SUBSCRIPTION_EVENTS = [
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
] as const;

/**
 * Renewal period, cancellation (scheduled, undone, ended), price and quantity changes, pause and resume: all read
 * from the subscription as it is now, whichever of its events pointed at it.
 */
export const subscriptionHandler = handler({
  objectPrefixes: ["sub_"],
  read: readSubscription,
  apply: async (tx, actor, sub) => {
    await lockBillingRoots(tx, { subscriptionIds: [sub.id] });
    await saveSubscriptionFacts(tx, sub);
    return syncFollowers(tx, actor, { subscriptionIds: [sub.id] }, { subscriptionId: sub.id, subscriptionStatus: sub.status });
  },
});
