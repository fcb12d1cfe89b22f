import { z } from "zod";

/**
 * Every task's payload schema, in one place: the enqueuer is typed by it and each task parses with it.
 * A payload carries ids only; the task reads the current rows.
 */
export const TaskPayloadSchemas = {
  process_stripe_event: z.object({ eventId: z.string().min(1) }),
  send_email: z.object({ outboxId: z.string().uuid() }),
  stripe_reconcile: z.object({}),
  import_run: z.object({ importId: z.string().uuid() }),
  /** One attempt of one outgoing webhook delivery; manual: an operator's retry. */
  deliver_webhook: z.object({ deliveryId: z.string().uuid(), manual: z.boolean().optional() }),
  // Sweeps are started by the crontab (their payload carries graphile-worker's `_cron`, ignored here).
  sweep_expire: z.object({}),
  sweep_reminders: z.object({}),
  sweep_floating_seats: z.object({}),
  sweep_auth_expired: z.object({}),
} as const;

export type TaskName = keyof typeof TaskPayloadSchemas;
export type TaskPayloads = { [K in TaskName]: z.infer<(typeof TaskPayloadSchemas)[K]> };
