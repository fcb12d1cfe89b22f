import { and, eq, gte, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { activations, appState, emailOutbox, licenses, stripeEvents, usageDaily } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import {
  parseWebhookRejections,
  WEBHOOK_LAST_SEEN_KEY,
  WEBHOOK_REJECTED_KEY,
  type WebhookRejections,
} from "@/server/domain/billing/webhook";
import { countWaitingEmails, waitingMessage } from "@/server/domain/mail/waiting";
import { DAY_MS, now } from "@/server/domain/clock";
import { utcDay } from "@/server/domain/usage/counter";

/**
 * The admin dashboard's figures. Each is one indexed query (status indexes, the created_at index, the small
 * usage_daily table), so the page stays fast with a million licenses.
 */

export const DashboardInput = z.object({ days: z.number().int().min(7).max(90).default(30) });

export type WebhookLastSeen = { at: string; eventId: string | null; type: string | null };

export type DashboardSummary = {
  activeLicenses: number;
  pastDueLicenses: number;
  activations: number;
  failedEmails: number;
  /** Held in production until an email provider is configured, and what to do about it. */
  waitingEmails: number;
  waitingEmailsMessage: string | null;
  pendingStripeEvents: number;
  failedStripeEvents: number;
  webhookLastSeen: WebhookLastSeen | null;
  webhookRejected: WebhookRejections | null;
};

export type DailyPoint = { day: string; issued: number; validations: number; activations: number };

export async function dashboardSummary(db: DbOrTx): Promise<DashboardSummary> {
  const count = sql<number>`count(*)::int`;
  const [byStatus, acts, emails, waitingEmails, events, webhook] = await Promise.all([
    db
      .select({ status: licenses.status, n: count })
      .from(licenses)
      .where(inArray(licenses.status, ["active", "past_due"]))
      .groupBy(licenses.status),
    db.select({ n: count }).from(activations),
    db.select({ n: count }).from(emailOutbox).where(eq(emailOutbox.status, "failed")),
    countWaitingEmails(db),
    db
      .select({ status: stripeEvents.status, n: count })
      .from(stripeEvents)
      .where(inArray(stripeEvents.status, ["pending", "failed"]))
      .groupBy(stripeEvents.status),
    webhookState(db),
  ]);
  const statusCount = (rows: { status: string; n: number }[], s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  return {
    activeLicenses: statusCount(byStatus, "active"),
    pastDueLicenses: statusCount(byStatus, "past_due"),
    activations: acts[0]?.n ?? 0,
    failedEmails: emails[0]?.n ?? 0,
    waitingEmails,
    waitingEmailsMessage: waitingMessage(waitingEmails),
    pendingStripeEvents: statusCount(events, "pending"),
    failedStripeEvents: statusCount(events, "failed"),
    ...webhook,
  };
}

/** The last accepted delivery and the refused ones, so "never seen" and "arriving but rejected" read apart. */
export async function webhookState(
  db: DbOrTx,
): Promise<{ webhookLastSeen: WebhookLastSeen | null; webhookRejected: WebhookRejections | null }> {
  const rows = await db
    .select({ key: appState.key, value: appState.value })
    .from(appState)
    .where(inArray(appState.key, [WEBHOOK_LAST_SEEN_KEY, WEBHOOK_REJECTED_KEY]));
  const valueOf = (key: string) => rows.find((r) => r.key === key)?.value;
  return {
    webhookLastSeen: parseWebhookLastSeen(valueOf(WEBHOOK_LAST_SEEN_KEY)),
    webhookRejected: parseWebhookRejections(valueOf(WEBHOOK_REJECTED_KEY)),
  };
}

export function parseWebhookLastSeen(value: unknown): WebhookLastSeen | null {
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (typeof v.at !== "string") return null;
  return {
    at: v.at,
    eventId: typeof v.eventId === "string" ? v.eventId : null,
    type: typeof v.type === "string" ? v.type : null,
  };
}

/**
 * Licenses issued, validations and new activations per UTC day for the last `days` days (today included),
 * oldest first, with zeros for quiet days. Validations and activations come from the in-memory counters
 * (usage_daily), so today's figure trails by up to one flush interval.
 */
export async function dashboardSeries(db: DbOrTx, days: number): Promise<DailyPoint[]> {
  const today = Date.parse(`${utcDay(now())}T00:00:00Z`);
  const since = new Date(today - (days - 1) * DAY_MS);
  const dayExpr = sql<string>`to_char(${licenses.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const [issued, usage] = await Promise.all([
    db
      .select({ day: dayExpr, n: sql<number>`count(*)::int` })
      .from(licenses)
      .where(gte(licenses.createdAt, since))
      .groupBy(dayExpr),
    db
      .select({ day: usageDaily.day, metric: usageDaily.metric, n: usageDaily.count })
      .from(usageDaily)
      .where(and(gte(usageDaily.day, utcDay(since)), inArray(usageDaily.metric, ["validations", "activations"]))),
  ]);
  const points = new Map<string, DailyPoint>();
  for (let i = 0; i < days; i++) {
    const day = utcDay(new Date(since.getTime() + i * DAY_MS));
    points.set(day, { day, issued: 0, validations: 0, activations: 0 });
  }
  for (const r of issued) {
    const p = points.get(r.day);
    if (p) p.issued = r.n;
  }
  for (const r of usage) {
    const p = points.get(r.day);
    if (p) p[r.metric] = Number(r.n);
  }
  return [...points.values()];
}
