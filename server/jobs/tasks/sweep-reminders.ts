import { db } from "@/server/db/client";
import { runBatches } from "@/server/domain/sweeps/batch";
import { sendReminders } from "@/server/domain/sweeps/reminders";
import { defineTask } from "../define-task";
import { logger } from "@/server/observability/log";

// Every minute (crontab.ts): expiry reminders and trial-ending notices, each owed once per license and date.
export const sweepRemindersTask = defineTask("sweep_reminders", async () => {
  const sent = await runBatches(() => sendReminders(db()));
  if (sent) logger().info(`[sweep] ${sent} reminder(s) queued`);
});
