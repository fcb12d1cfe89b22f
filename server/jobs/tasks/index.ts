import type { TaskList } from "graphile-worker";
import { importRunTask } from "./import-run";
import { deliverWebhookTask } from "./deliver-webhook";
import { processStripeEventTask } from "./process-stripe-event";
import { sendEmailTask } from "./send-email";
import { stripeReconcileTask } from "./stripe-reconcile";
import { sweepAuthExpiredTask } from "./sweep-auth-expired";
import { sweepExpireTask } from "./sweep-expire";
import { sweepFloatingSeatsTask } from "./sweep-floating-seats";
import { sweepRemindersTask } from "./sweep-reminders";

export const taskList: TaskList = {
  process_stripe_event: processStripeEventTask,
  send_email: sendEmailTask,
  deliver_webhook: deliverWebhookTask,
  stripe_reconcile: stripeReconcileTask,
  import_run: importRunTask,
  sweep_expire: sweepExpireTask,
  sweep_reminders: sweepRemindersTask,
  sweep_floating_seats: sweepFloatingSeatsTask,
  sweep_auth_expired: sweepAuthExpiredTask,
};
