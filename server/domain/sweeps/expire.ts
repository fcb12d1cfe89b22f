import { and, eq, inArray } from "drizzle-orm";
import { customers, licenses, plans } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { SYSTEM, recordAudit } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { LAPSING_STATUSES, lapsedSql, lapsesAt } from "@/server/domain/licensing/expiry";
import { queueEmail } from "@/server/domain/mail/queue";
import { emitLicenseEvent } from "@/server/domain/webhooks/emit";
import { SWEEP_AUDIT_METADATA, SWEEP_BATCH_SIZE, type SweepBatch, type SweepOptions } from "./batch";

/**
 * The license-expired email is owed once per license and expiry: whoever notices the expiry first (this sweep,
 * or a Stripe event ending the subscription) queues it under this key, and the other finds it already owed.
 * An extension followed by a second expiry is a new expiry, so it gets its own email.
 */
export const licenseExpiredDedupeKey = (licenseId: string, expiresAt: Date) =>
  `license-expired:${licenseId}:${expiresAt.toISOString()}`;

/**
 * Marks expired the licenses that have lapsed (licensing/expiry.ts: the rule every door applies, so validate
 * has already answered EXPIRED for them), one batch per call: status, audit row and the customer's
 * license-expired email in one transaction. Only active and past_due licenses expire this way: a suspended
 * or revoked license keeps the status an admin or a dispute gave it.
 */
export async function expireLicenses(db: Db, opts: SweepOptions = {}): Promise<SweepBatch> {
  const limit = opts.limit ?? SWEEP_BATCH_SIZE;
  return db.transaction(async (tx) => {
    const at = now();
    const due = await tx
      .select({
        id: licenses.id,
        status: licenses.status,
        expiresAt: licenses.expiresAt,
        customerId: licenses.customerId,
        graceDays: plans.graceDays,
        email: customers.email,
      })
      .from(licenses)
      .innerJoin(plans, eq(plans.id, licenses.planId))
      .innerJoin(customers, eq(customers.id, licenses.customerId))
      .where(
        and(
          inArray(licenses.status, [...LAPSING_STATUSES]),
          lapsedSql({ expiresAt: licenses.expiresAt, graceDays: plans.graceDays }, at),
        ),
      )
      .orderBy(licenses.expiresAt)
      .limit(limit)
      .for("update", { of: licenses, skipLocked: true });

    for (const l of due) {
      const expiresAt = l.expiresAt!;
      await tx.update(licenses).set({ status: "expired", updatedAt: at }).where(eq(licenses.id, l.id));
      const expiredAt = lapsesAt(expiresAt, l.graceDays);
      await recordAudit(tx, SYSTEM, {
        action: "license.expired",
        subjectType: "license",
        subjectId: l.id,
        before: { status: l.status, expiresAt: expiresAt.toISOString() },
        after: { status: "expired", expiresAt: expiresAt.toISOString() },
        metadata: { ...SWEEP_AUDIT_METADATA, graceDays: l.graceDays },
      });
      await queueEmail(tx, {
        dedupeKey: licenseExpiredDedupeKey(l.id, expiresAt),
        template: "license-expired",
        to: l.email,
        customerId: l.customerId,
        props: { licenseId: l.id, expiredAt: expiredAt.toISOString() },
      });
      await emitLicenseEvent(tx, "license.expired", l.id);
    }
    return { processed: due.length, more: due.length === limit };
  });
}
