/**
 * graphile-worker crontab. Fires on minute boundaries; each task is idempotent, so a second worker process
 * running the same line is harmless (graphile-worker also de-duplicates cron runs across workers).
 */
export const crontab = [
  // Populated by the lifecycle sweeps (expiry, reminders, floating seats, Stripe reconciliation).
].join("\n");
