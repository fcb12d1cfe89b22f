import { eq } from "drizzle-orm";
import { emailOutbox } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { backoffDelayMs, enqueue } from "@/server/jobs/enqueue";
import { env } from "@/server/env";
import { PermanentEmailError, renderEmail } from "./render";
import { emailRoute } from "./route";
import { sendEmail } from "./send-email";
import { logger } from "@/server/observability/log";

/**
 * After this many failed attempts the row is marked failed and nobody tries again (the admin's email outbox can
 * still retry it). The backoff doubles up to an hour, so at the default RETRY_BASE_MS (10 s) the first 10
 * attempts span 85 minutes and the rest come hourly: about 21 hours in all, enough to outlast a provider's bad
 * day, where 10 attempts gave up on a buyer's key after an outage of an hour and a half.
 */
export const MAX_EMAIL_ATTEMPTS = 30;

export type DeliveryOutcome =
  | { outcome: "sent"; provider: string; messageId: string }
  | { outcome: "retrying"; attempts: number; nextAttemptAt: Date; error: string }
  | { outcome: "failed"; attempts: number; error: string }
  | { outcome: "waiting" }
  | { outcome: "skipped"; reason: "missing" | "sent" | "failed" | "waiting" };

/**
 * Delivers one outbox email (the send_email job). The row is locked FOR UPDATE for the whole attempt, so two
 * jobs for the same row never both send; the second one finds it sent and stops.
 *
 * A provider failure never escapes: it is recorded on the row (attempts, last error, next attempt) and the
 * retry is scheduled in the same transaction, with our own exponential backoff (graphile-worker's fixed
 * backoff is too slow to be useful for email and cannot be configured). The worker only sees an error when
 * the database itself fails, and then its own retry applies.
 *
 * The lock is held across the provider call on purpose: releasing it first would let a duplicate job send
 * while this one is still talking to the provider. Provider calls have short timeouts to bound that.
 *
 * In production with no provider the row is set waiting before anything is rendered: no key is opened, nothing
 * is logged, no attempt is spent, and the first start with a provider sends it (releaseWaitingEmails).
 */
export async function deliverOutboxEmail(db: Db, outboxId: string): Promise<DeliveryOutcome> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(emailOutbox).where(eq(emailOutbox.id, outboxId)).for("update");
    if (!row) return { outcome: "skipped", reason: "missing" } as const;
    if (row.status !== "pending") return { outcome: "skipped", reason: row.status } as const;
    if (emailRoute() === "hold") {
      await tx.update(emailOutbox).set({ status: "waiting", nextAttemptAt: null }).where(eq(emailOutbox.id, row.id));
      return { outcome: "waiting" } as const;
    }

    const attempts = row.attempts + 1;
    // Delivery talks to real servers and the real job queue: wall-clock time, not the domain clock.
    const at = new Date();

    let rendered;
    try {
      rendered = await renderEmail(tx, row);
    } catch (err) {
      if (!(err instanceof PermanentEmailError)) throw err;
      await tx
        .update(emailOutbox)
        .set({ status: "failed", attempts, lastError: err.message, nextAttemptAt: null })
        .where(eq(emailOutbox.id, row.id));
      logger().error(`[mail] ${row.id} to ${row.to} cannot be sent: ${err.message}`);
      return { outcome: "failed", attempts, error: err.message } as const;
    }

    try {
      const sent = await sendEmail(tx, { outboxId: row.id, to: row.to, ...rendered });
      await tx
        .update(emailOutbox)
        // last_error stays: "sent on attempt 4 after three refusals" is worth seeing.
        .set({
          status: "sent",
          attempts,
          subject: rendered.subject,
          provider: sent.provider,
          providerMessageId: sent.messageId,
          sentAt: at,
          nextAttemptAt: null,
        })
        .where(eq(emailOutbox.id, row.id));
      return { outcome: "sent", provider: sent.provider, messageId: sent.messageId } as const;
    } catch (err) {
      const error = truncate(err instanceof Error ? err.message : String(err), 2000);
      if (attempts >= MAX_EMAIL_ATTEMPTS) {
        await tx
          .update(emailOutbox)
          .set({ status: "failed", attempts, subject: rendered.subject, lastError: error, nextAttemptAt: null })
          .where(eq(emailOutbox.id, row.id));
        logger().error(`[mail] ${row.id} to ${row.to} failed for good after ${attempts} attempts: ${error}`);
        return { outcome: "failed", attempts, error } as const;
      }
      const nextAttemptAt = new Date(at.getTime() + backoffDelayMs(attempts, env().RETRY_BASE_MS));
      await tx
        .update(emailOutbox)
        .set({ attempts, subject: rendered.subject, lastError: error, nextAttemptAt })
        .where(eq(emailOutbox.id, row.id));
      // Same job key as the first job: graphile-worker detaches the key from this running job and adds a new one.
      await enqueue(tx, "send_email", { outboxId: row.id }, { jobKey: `email:${row.id}`, runAt: nextAttemptAt });
      logger().warn(
        `[mail] ${row.id} to ${row.to}: attempt ${attempts}/${MAX_EMAIL_ATTEMPTS} failed (${error}); next at ${nextAttemptAt.toISOString()}`,
      );
      return { outcome: "retrying", attempts, nextAttemptAt, error } as const;
    }
  });
}

const truncate = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
