import type { TaskList } from "graphile-worker";
import { processStripeEventTask } from "./process-stripe-event";
import { sendEmailTask } from "./send-email";

export const taskList: TaskList = {
  process_stripe_event: processStripeEventTask,
  send_email: sendEmailTask,
};
