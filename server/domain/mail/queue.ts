import { emailOutbox } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { enqueue } from "@/server/jobs/enqueue";
import type { TemplateName, TemplateProps } from "@/emails";

export type QueueEmailInput<T extends TemplateName> = {
  /** The same logical email is owed once: a second queueEmail with this key does nothing. */
  dedupeKey: string;
  template: T;
  to: string;
  customerId?: string | null;
  /** Ids and facts, never secrets: the sender loads keys at send time. */
  props: TemplateProps[T];
};

/**
 * Owes someone an email: writes the outbox row and its send job through the caller's transaction.
 * Returns the outbox id, or null when this email was already owed (same dedupeKey).
 */
export async function queueEmail<T extends TemplateName>(tx: DbOrTx, input: QueueEmailInput<T>) {
  const [row] = await tx
    .insert(emailOutbox)
    .values({
      dedupeKey: input.dedupeKey,
      template: input.template,
      to: input.to,
      customerId: input.customerId ?? null,
      props: input.props as Record<string, unknown>,
    })
    .onConflictDoNothing({ target: emailOutbox.dedupeKey })
    .returning({ id: emailOutbox.id });
  if (!row) return null;
  await enqueue(tx, "send_email", { outboxId: row.id }, { jobKey: `email:${row.id}` });
  return row.id;
}
