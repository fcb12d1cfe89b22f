import { db } from "@/server/db/client";
import { runBatches } from "@/server/domain/sweeps/batch";
import { deleteExpiredAuthRows } from "@/server/domain/sweeps/auth-expired";
import { defineTask } from "../define-task";
import { logger } from "@/server/observability/log";

// Hourly (crontab.ts): expired sessions and sign-in links are deleted.
export const sweepAuthExpiredTask = defineTask("sweep_auth_expired", async () => {
  const deleted = await runBatches(() => deleteExpiredAuthRows(db()));
  if (deleted) logger().info(`[sweep] ${deleted} expired session(s) and sign-in link(s) deleted`);
});
