import { processStripeEvent } from "@/server/domain/billing/apply-stripe-event";
import { defineTask } from "../define-task";

// Retries are scheduled by processStripeEvent itself (backoff recorded on the event row), so a failed try
// still completes this job; only a failure to record the failure reaches graphile-worker's own retry.
export const processStripeEventTask = defineTask("process_stripe_event", async ({ eventId }) => {
  await processStripeEvent(eventId);
});
