import { db } from "@/server/db/client";
import { deliverWebhook } from "@/server/domain/webhooks/deliver";
import { defineTask } from "../define-task";

// One attempt of one webhook delivery. A receiver's failure is recorded and its next attempt scheduled by the
// domain, so this only throws when the database does.
export const deliverWebhookTask = defineTask("deliver_webhook", async ({ deliveryId, manual }) => {
  await deliverWebhook(db(), deliveryId, { manual });
});
