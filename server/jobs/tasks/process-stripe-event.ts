import { defineTask } from "../define-task";

// Placeholder until the billing slice lands.
export const processStripeEventTask = defineTask("process_stripe_event", async () => {
  throw new Error("process_stripe_event is not implemented yet");
});
