import { and, eq, gt, inArray, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import { customers, licenseNotices, licenses, type LicenseNoticeKind } from "@/server/db/schema";
import type { Db, Tx } from "@/server/db/client";
import { addDays, now } from "@/server/domain/clock";
import { queueEmail } from "@/server/domain/mail/queue";
import { env } from "@/server/env";
import { SWEEP_BATCH_SIZE, type SweepBatch, type SweepOptions } from "./batch";

/** Days before a trial ends that its notice goes out (Stripe's own trial_will_end fires 3 days before). */
export const TRIAL_NOTICE_DAYS = 3;

export type ReminderBatch = SweepBatch & { expiring: number; trialEnding: number };

/**
 * Reminders before a license stops working, one batch per call:
 *  - license-expiring, EXPIRY_REMINDER_DAYS (default 7 and 1) days before the expiry, for licenses that will
 *    not renew by themselves (no auto-renewing subscription, or a cancellation is scheduled). Trials are left
 *    to the trial notice.
 *  - trial-ending, TRIAL_NOTICE_DAYS before a trial ends.
 *
 * Each reminder is owed at most once per license and date: a license_notices row (license, kind, date; its
 * primary key) is inserted in the same transaction as the email, and only the transaction that inserts it
 * queues the email. Two sweeps racing, or one sweep running twice, cannot both send. A license seen late
 * (the server was off, or it was issued 3 days before expiry) gets only the reminder for the nearest
 * threshold it is inside, not every one it missed.
 */
export async function sendReminders(db: Db, opts: SweepOptions & { days?: number[] } = {}): Promise<ReminderBatch> {
  const limit = opts.limit ?? SWEEP_BATCH_SIZE;
  const days = [...new Set(opts.days ?? env().EXPIRY_REMINDER_DAYS)].sort((a, b) => a - b);
  return db.transaction(async (tx) => {
    const at = now();
    let expiring = 0;
    let scanned = 0;
    // Threshold d covers expiries in (at + previous threshold, at + d]: the nearest threshold wins.
    for (let i = 0; i < days.length && scanned < limit; i++) {
      const d = days[i]!;
      const from = addDays(at, i === 0 ? 0 : days[i - 1]!);
      const result = await remindExpiring(tx, { at, kind: `expiring:${d}`, from, to: addDays(at, d), limit: limit - scanned });
      scanned += result.scanned;
      expiring += result.sent;
    }
    let trialEnding = 0;
    if (scanned < limit) {
      const result = await remindTrialEnding(tx, { at, limit: limit - scanned });
      scanned += result.scanned;
      trialEnding = result.sent;
    }
    return { processed: expiring + trialEnding, expiring, trialEnding, more: scanned >= limit };
  });
}

type Candidate = { id: string; customerId: string; email: string; forDate: Date };

type DateColumn = typeof licenses.expiresAt | typeof licenses.trialEndsAt;

/**
 * Claims the notice; true only for the transaction that inserted it (the primary key arbitrates races). The
 * date is copied from the license row in SQL, not round-tripped through a JS Date, which would drop the
 * microseconds a timestamp may carry and then never match it again.
 */
async function claimNotice(tx: Tx, licenseId: string, kind: LicenseNoticeKind, column: DateColumn): Promise<boolean> {
  const { rows } = await tx.execute(sql`
    insert into ${licenseNotices} (license_id, kind, for_date)
    select ${licenses.id}, ${kind}::text, ${column} from ${licenses} where ${licenses.id} = ${licenseId}
    on conflict do nothing
    returning license_id`);
  return rows.length > 0;
}

async function recordOutbox(tx: Tx, licenseId: string, kind: LicenseNoticeKind, column: DateColumn, outboxId: string | null) {
  await tx.execute(sql`
    update ${licenseNotices} set outbox_id = ${outboxId}
    where license_id = ${licenseId} and kind = ${kind}::text
      and for_date = (select ${column} from ${licenses} where ${licenses.id} = ${licenseId})`);
}

/** Licenses not yet given this notice for this date (so a full batch of already-reminded rows cannot starve the rest). */
const notNoticed = (kind: LicenseNoticeKind, forDate: DateColumn) =>
  sql`not exists (select 1 from ${licenseNotices} n where n.license_id = ${licenses.id} and n.kind = ${kind} and n.for_date = ${forDate})`;

async function remindExpiring(tx: Tx, w: { at: Date; kind: `expiring:${number}`; from: Date; to: Date; limit: number }) {
  const candidates: Candidate[] = (
    await tx
      .select({ id: licenses.id, customerId: licenses.customerId, email: customers.email, forDate: licenses.expiresAt })
      .from(licenses)
      .innerJoin(customers, eq(customers.id, licenses.customerId))
      .where(
        and(
          inArray(licenses.status, ["active", "past_due"]),
          gt(licenses.expiresAt, w.from),
          lte(licenses.expiresAt, w.to),
          // Will not renew by itself.
          or(eq(licenses.autoRenews, false), isNotNull(licenses.cancelAt)),
          // A license still in its trial gets the trial notice instead.
          or(isNull(licenses.trialEndsAt), lte(licenses.trialEndsAt, w.at)),
          notNoticed(w.kind, licenses.expiresAt),
        ),
      )
      .orderBy(licenses.expiresAt)
      .limit(w.limit)
      .for("update", { of: licenses, skipLocked: true })
  ).map((c) => ({ ...c, forDate: c.forDate! }));

  let sent = 0;
  for (const c of candidates) {
    if (!(await claimNotice(tx, c.id, w.kind, licenses.expiresAt))) continue;
    const outboxId = await queueEmail(tx, {
      dedupeKey: `license-expiring:${c.id}:${w.kind}:${c.forDate.toISOString()}`,
      template: "license-expiring",
      to: c.email,
      customerId: c.customerId,
      props: { licenseId: c.id, expiresAt: c.forDate.toISOString() },
    });
    await recordOutbox(tx, c.id, w.kind, licenses.expiresAt, outboxId);
    sent++;
  }
  return { scanned: candidates.length, sent };
}

async function remindTrialEnding(tx: Tx, w: { at: Date; limit: number }) {
  const kind = "trial-ending" as const;
  const candidates: Candidate[] = (
    await tx
      .select({ id: licenses.id, customerId: licenses.customerId, email: customers.email, forDate: licenses.trialEndsAt })
      .from(licenses)
      .innerJoin(customers, eq(customers.id, licenses.customerId))
      .where(
        and(
          inArray(licenses.status, ["active", "past_due"]),
          gt(licenses.trialEndsAt, w.at),
          lte(licenses.trialEndsAt, addDays(w.at, TRIAL_NOTICE_DAYS)),
          notNoticed(kind, licenses.trialEndsAt),
        ),
      )
      .orderBy(licenses.trialEndsAt)
      .limit(w.limit)
      .for("update", { of: licenses, skipLocked: true })
  ).map((c) => ({ ...c, forDate: c.forDate! }));

  let sent = 0;
  for (const c of candidates) {
    if (!(await claimNotice(tx, c.id, kind, licenses.trialEndsAt))) continue;
    const outboxId = await queueEmail(tx, {
      dedupeKey: `trial-ending:${c.id}:${c.forDate.toISOString()}`,
      template: "trial-ending",
      to: c.email,
      customerId: c.customerId,
      props: { licenseId: c.id, trialEndsAt: c.forDate.toISOString() },
    });
    await recordOutbox(tx, c.id, kind, licenses.trialEndsAt, outboxId);
    sent++;
  }
  return { scanned: candidates.length, sent };
}
