import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import { devMailbox } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { env, type Env } from "@/server/env";
import { emailRoute } from "./route";

/**
 * The dev mailbox shows whole emails, license keys included, to anyone who can reach the app: only while no
 * provider is configured (so nothing real is sent) and never in production.
 */
export function devMailboxEnabled(settings: Env = env()): boolean {
  return emailRoute(settings) === "dev-mailbox";
}

export const DevMailboxMessageInput = z.object({ id: z.uuid() });

export type DevMailboxSummary = { id: string; to: string; subject: string; createdAt: string };
export type DevMailboxMessage = DevMailboxSummary & {
  from: string;
  html: string;
  text: string;
  outboxId: string | null;
};

/** Newest first. */
export async function listDevMailbox(
  tx: DbOrTx,
  { limit = 50 }: { limit?: number } = {},
): Promise<DevMailboxSummary[]> {
  const rows = await tx
    .select({ id: devMailbox.id, to: devMailbox.to, subject: devMailbox.subject, createdAt: devMailbox.createdAt })
    .from(devMailbox)
    .orderBy(desc(devMailbox.createdAt), desc(devMailbox.id))
    .limit(limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

export async function getDevMailboxMessage(tx: DbOrTx, id: string): Promise<DevMailboxMessage | null> {
  const [row] = await tx.select().from(devMailbox).where(eq(devMailbox.id, id));
  if (!row) return null;
  return {
    id: row.id,
    outboxId: row.outboxId,
    from: row.from,
    to: row.to,
    subject: row.subject,
    html: row.html,
    text: row.text,
    createdAt: row.createdAt.toISOString(),
  };
}
