import { db } from "@/server/db/client";
import { deliverOutboxEmail } from "@/server/domain/mail/deliver";
import { defineTask } from "../define-task";

// One outbox email per job. Failures are recorded on the row and retried by a job the domain schedules
// itself, so this task only throws when the database does.
export const sendEmailTask = defineTask("send_email", async ({ outboxId }) => {
  await deliverOutboxEmail(db(), outboxId);
});
