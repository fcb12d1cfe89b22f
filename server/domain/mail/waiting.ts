import { eq, inArray, sql } from "drizzle-orm";
import { emailOutbox } from "@/server/db/schema";
import type { Db, DbOrTx } from "@/server/db/client";
import { enqueue } from "@/server/jobs/enqueue";
import { env, type Env } from "@/server/env";
import { emailRoute, PROVIDER_SETTINGS_HINT, type EmailRoute } from "./route";
import { logger } from "@/server/observability/log";

/**
 * Emails held in production while no provider is configured (status "waiting", see deliver.ts), and their
 * release once one is.
 */

const BATCH = 500;

/**
 * At start: with a real provider, every waiting email goes back to pending with its send job, exactly once.
 * Each batch moves its rows and queues their jobs in one transaction, and SKIP LOCKED lets two processes that
 * start together share the rows instead of both taking them; the job key (the outbox id) and the send job's
 * row lock would still collapse a duplicate. Without a provider it only says, once, how many are waiting.
 */
export async function releaseWaitingEmails(db: Db, settings: Env = env()): Promise<number> {
  const route = emailRoute(settings);
  if (route === "hold") {
    const waiting = await countWaitingEmails(db);
    logger().warn(
      `[mail] no email provider is configured: emails wait in the outbox (${waiting} now); ${PROVIDER_SETTINGS_HINT} to send them.`,
    );
    return 0;
  }
  // The dev mailbox is not a provider: what production held stays held for a real one.
  if (route === "dev-mailbox") return 0;

  let released = 0;
  for (;;) {
    const ids = await db.transaction(async (tx) => {
      const batch = tx
        .select({ id: emailOutbox.id })
        .from(emailOutbox)
        .where(eq(emailOutbox.status, "waiting"))
        .limit(BATCH)
        .for("update", { skipLocked: true });
      const rows = await tx
        .update(emailOutbox)
        .set({ status: "pending" })
        .where(inArray(emailOutbox.id, batch))
        .returning({ id: emailOutbox.id });
      for (const { id } of rows) await enqueue(tx, "send_email", { outboxId: id }, { jobKey: `email:${id}` });
      return rows.map((r) => r.id);
    });
    released += ids.length;
    if (ids.length < BATCH) break;
  }
  if (released > 0) logger().info(`[mail] ${released} email(s) that waited for an email provider are queued now (${route})`);
  return released;
}

export async function countWaitingEmails(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(emailOutbox)
    .where(eq(emailOutbox.status, "waiting"));
  return row?.n ?? 0;
}

export type EmailDeliveryStatus = {
  route: EmailRoute;
  waiting: number;
  /** "12 emails waiting for an email provider: set …", or null when nothing waits. */
  message: string | null;
};

/** What the dashboard, setup and emails pages say about delivery. */
export async function emailDeliveryStatus(db: DbOrTx, settings: Env = env()): Promise<EmailDeliveryStatus> {
  const waiting = await countWaitingEmails(db);
  return { route: emailRoute(settings), waiting, message: waitingMessage(waiting) };
}

export function waitingMessage(waiting: number): string | null {
  if (waiting === 0) return null;
  return `${waiting} ${waiting === 1 ? "email" : "emails"} waiting for an email provider: ${PROVIDER_SETTINGS_HINT}.`;
}
