import type { TaskList } from "graphile-worker";
import { processStripeEventTask } from "./process-stripe-event";
import { sendEmailTask } from "./send-email";
import { stripeReconcileTask } from "./stripe-reconcile";

export const taskList: TaskList = {
  process_stripe_event: processStripeEventTask,
  send_email: sendEmailTask,
  stripe_reconcile: stripeReconcileTask,
};
