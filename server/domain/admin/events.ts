import { and, desc, eq, or, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { auditLog, STRIPE_EVENT_STATUSES, stripeEvents, type StripeEventStatus } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { processJobKey } from "@/server/domain/billing/store-event";
import { AppError } from "@/server/domain/errors";
import { enqueue } from "@/server/jobs/enqueue";
import { beforeTimestampCursor, CursorInput, LimitInput, page, timestampText } from "./cursor";
import { storableText } from "./text";
import { toAuditEntry, type AuditEntryView } from "./audit";

/**
 * The Stripe inbox as the admin sees it: every event we received, what processing made of it, and a replay
 * for the ones that failed (or that the operator wants run again after fixing a plan's price binding).
 */

export const ListStripeEventsInput = z.object({
  status: z.enum(STRIPE_EVENT_STATUSES).optional(),
  /** Exact type ("invoice.paid") or a family ending in a dot ("invoice."). */
  type: storableText(1, 255).optional(),
  /** An event id (evt_…) or the id of the object it is about (cs_…, sub_…, in_…). */
  q: storableText(1, 255).optional(),
  cursor: CursorInput.optional(),
  limit: LimitInput(100, 25),
});
export type ListStripeEventsInput = z.input<typeof ListStripeEventsInput>;

export type StripeEventRow = {
  id: string;
  type: string;
  status: StripeEventStatus;
  objectId: string | null;
  attempts: number;
  lastError: string | null;
  receivedVia: string;
  livemode: boolean;
  stripeCreatedAt: string;
  receivedAt: string;
  processedAt: string | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const rowColumns = {
  id: stripeEvents.id,
  type: stripeEvents.type,
  status: stripeEvents.status,
  objectId: stripeEvents.objectId,
  attempts: stripeEvents.attempts,
  lastError: stripeEvents.lastError,
  receivedVia: stripeEvents.receivedVia,
  livemode: stripeEvents.livemode,
  stripeCreatedAt: stripeEvents.stripeCreatedAt,
  receivedAt: stripeEvents.receivedAt,
  processedAt: stripeEvents.processedAt,
};

function toRow(r: {
  id: string;
  type: string;
  status: StripeEventStatus;
  objectId: string | null;
  attempts: number;
  lastError: string | null;
  receivedVia: string;
  livemode: boolean;
  stripeCreatedAt: Date;
  receivedAt: Date;
  processedAt: Date | null;
}): StripeEventRow {
  return {
    ...r,
    stripeCreatedAt: r.stripeCreatedAt.toISOString(),
    receivedAt: r.receivedAt.toISOString(),
    processedAt: iso(r.processedAt),
  };
}

/** Newest first; keyset over (received_at, id), served by stripe_events_received_idx (or the status index). */
export async function listStripeEvents(tx: DbOrTx, rawInput: ListStripeEventsInput) {
  const input = ListStripeEventsInput.parse(rawInput);
  const where: SQL[] = [];
  if (input.status) where.push(eq(stripeEvents.status, input.status));
  if (input.type) {
    where.push(input.type.endsWith(".") ? sql`starts_with(${stripeEvents.type}, ${input.type})` : eq(stripeEvents.type, input.type));
  }
  if (input.q) where.push(or(eq(stripeEvents.id, input.q), eq(stripeEvents.objectId, input.q))!);
  if (input.cursor) where.push(beforeTimestampCursor(stripeEvents.receivedAt, stripeEvents.id, input.cursor, "text"));
  const rows = await tx
    .select({ ...rowColumns, at: timestampText(stripeEvents.receivedAt) })
    .from(stripeEvents)
    .where(and(...where))
    .orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id))
    .limit(input.limit + 1);
  const { data, nextCursor } = page(rows, input.limit, (r) => [r.at, r.id]);
  return { data: data.map(({ at: _at, ...r }) => toRow(r)), nextCursor };
}

export type StripeEventDetail = {
  event: StripeEventRow & { apiVersion: string | null; payload: unknown; result: Record<string, unknown> | null };
  /** What processing it did: the audit rows it wrote as actor, and those written about it. */
  audit: AuditEntryView[];
  /** Licenses it touched (from its audit rows), for links. */
  licenseIds: string[];
};

export const StripeEventIdInput = z.object({ id: z.string().min(1).max(255) });

export async function getStripeEvent(tx: DbOrTx, id: string): Promise<StripeEventDetail> {
  const [row] = await tx.select().from(stripeEvents).where(eq(stripeEvents.id, id));
  if (!row) throw new AppError("NOT_FOUND", "There is no Stripe event with that id.");
  const audits = await tx
    .select()
    .from(auditLog)
    .where(
      or(
        and(eq(auditLog.actorType, "stripe"), eq(auditLog.actorId, id)),
        and(eq(auditLog.subjectType, "stripe_event"), eq(auditLog.subjectId, id)),
      ),
    )
    .orderBy(auditLog.id)
    .limit(500);
  return {
    event: { ...toRow(row), apiVersion: row.apiVersion, payload: row.payload, result: row.result ?? null },
    audit: audits.map(toAuditEntry),
    licenseIds: [...new Set(audits.filter((a) => a.subjectType === "license").map((a) => a.subjectId))],
  };
}

/**
 * Runs an event again: back to pending with a fresh attempt count, and its processing job queued, in one
 * transaction. Safe for any status: processing is idempotent (a checkout line item issues one license, ever),
 * and the job key collapses a replay with a job still waiting for the same event.
 */
export async function replayStripeEvent(tx: Tx, actor: Actor, id: string): Promise<StripeEventRow> {
  const [before] = await tx.select().from(stripeEvents).where(eq(stripeEvents.id, id)).for("update");
  if (!before) throw new AppError("NOT_FOUND", "There is no Stripe event with that id.");
  const [after] = await tx
    .update(stripeEvents)
    .set({ status: "pending", attempts: 0, lastError: null, result: null, processedAt: null })
    .where(eq(stripeEvents.id, id))
    .returning();
  await enqueue(tx, "process_stripe_event", { eventId: id }, { jobKey: processJobKey(id) });
  await recordAudit(tx, actor, {
    action: "stripe_event.replayed",
    subjectType: "stripe_event",
    subjectId: id,
    before: { status: before.status, attempts: before.attempts, lastError: before.lastError, result: before.result },
    after: { status: after!.status },
  });
  return toRow(after!);
}
