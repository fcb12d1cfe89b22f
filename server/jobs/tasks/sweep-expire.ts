import { db } from "@/server/db/client";
import { runBatches } from "@/server/domain/sweeps/batch";
import { expireLicenses } from "@/server/domain/sweeps/expire";
import { defineTask } from "../define-task";
import { logger } from "@/server/observability/log";

// Every minute (crontab.ts): licenses past their expiry plus grace become expired and their customers are told.
export const sweepExpireTask = defineTask("sweep_expire", async () => {
  const expired = await runBatches(() => expireLicenses(db()));
  if (expired) logger().info(`[sweep] ${expired} license(s) expired`);
});
