/**
 * graphile-worker crontab. Fires on minute boundaries; each task is idempotent, so a second worker process
 * running the same line is harmless (graphile-worker also de-duplicates cron runs across workers).
 */
export const crontab = [
  // Sweeps: jobKey keeps at most one waiting job per sweep (a failing run is replaced by the next minute's);
  // each run works in batches of 500 rows until done or 45 s have passed.
  "* * * * * sweep_expire ?max=3&jobKey=sweep_expire",
  "* * * * * sweep_reminders ?max=3&jobKey=sweep_reminders",
  "*/5 * * * * sweep_floating_seats ?max=3&jobKey=sweep_floating_seats",
  // Expired sessions and sign-in links: nothing reads them, so once an hour is plenty.
  "17 * * * * sweep_auth_expired ?max=3&jobKey=sweep_auth_expired",
  // Stripe reconciliation: lists the events since the last one seen and stores any the webhook missed. Shares its
  // job key with POST /api/v1/admin/stripe/reconcile, so a requested run and a scheduled one collapse.
  "*/10 * * * * stripe_reconcile ?max=1&jobKey=stripe_reconcile",
].join("\n");
