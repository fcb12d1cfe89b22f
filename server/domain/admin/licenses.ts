import { and, asc, desc, eq, inArray, or, sql } from "drizzle-orm";
import { activations, auditLog, customers, emailOutbox, licenses, plans, products, stripeEvents, type ActorType } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { effectiveStatus } from "@/server/domain/licensing/expiry";
import { isUuid } from "./cursor";
import { toActivationView, type AdminActivationView } from "@/server/domain/licensing/view";

/**
 * Everything the admin's license page shows: the license with its plan, product and customer, its machines,
 * and one timeline merging what happened to it (audit rows), what Stripe told us about it (events on its
 * checkout session, subscription or payment, and events whose processing touched it) and what we emailed.
 */

export type TimelineEntry =
  | {
      kind: "audit";
      id: string;
      at: string;
      action: string;
      actor: { type: ActorType; id: string | null };
      before: unknown;
      after: unknown;
      metadata: Record<string, unknown> | null;
    }
  | { kind: "stripe_event"; id: string; at: string; type: string; status: string; lastError: string | null }
  | {
      kind: "email";
      id: string;
      at: string;
      template: string;
      to: string;
      subject: string | null;
      status: string;
      attempts: number;
      lastError: string | null;
      sentAt: string | null;
    };

export type LicenseDetail = {
  license: {
    id: string;
    keyHint: string;
    status: string;
    statusReason: string | null;
    maxActivations: number;
    expiresAt: string | null;
    source: string;
    stripe: {
      checkoutSessionId: string | null;
      subscriptionId: string | null;
      paymentIntentId: string | null;
      priceId: string | null;
    };
    autoRenews: boolean;
    cancelAt: string | null;
    trialEndsAt: string | null;
    createdAt: string;
    updatedAt: string;
  };
  product: { id: string; slug: string; name: string };
  plan: {
    id: string;
    slug: string;
    name: string;
    seats: number;
    durationDays: number | null;
    graceDays: number;
    entitlements: string[];
    offlineTokenTtlSeconds: number | null;
    heartbeatWindowSeconds: number | null;
    airGappedTtlDays: number | null;
    archivedAt: string | null;
  };
  customer: { id: string; email: string; name: string | null };
  activations: AdminActivationView[];
  timeline: TimelineEntry[];
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** How far back each source of the timeline reaches; a license with more history is rare and the audit page has it all. */
const TIMELINE_LIMIT = 200;

export async function getLicenseDetail(tx: DbOrTx, id: string): Promise<LicenseDetail> {
  const [found] = isUuid(id)
    ? await tx
        .select({ license: licenses, plan: plans, product: products, customer: customers })
        .from(licenses)
        .innerJoin(plans, eq(plans.id, licenses.planId))
        .innerJoin(products, eq(products.id, plans.productId))
        .innerJoin(customers, eq(customers.id, licenses.customerId))
        .where(eq(licenses.id, id))
    : [];
  if (!found) throw new AppError("NOT_FOUND", "There is no license with that id.");
  const { license: l, plan: p, product: pr, customer: c } = found;

  const [machines, timeline] = await Promise.all([
    tx.select().from(activations).where(eq(activations.licenseId, id)).orderBy(asc(activations.createdAt), asc(activations.id)),
    licenseTimeline(tx, l),
  ]);

  return {
    license: {
      id: l.id,
      keyHint: l.keyHint,
      // What validate says: expired once expiry plus grace has passed, before the sweep records it.
      status: effectiveStatus({ status: l.status, expiresAt: l.expiresAt, graceDays: p.graceDays }, now()),
      statusReason: l.statusReason,
      maxActivations: l.maxActivations,
      expiresAt: iso(l.expiresAt),
      source: l.source,
      stripe: {
        checkoutSessionId: l.stripeCheckoutSessionId,
        subscriptionId: l.stripeSubscriptionId,
        paymentIntentId: l.stripePaymentIntentId,
        priceId: l.stripePriceId,
      },
      autoRenews: l.autoRenews,
      cancelAt: iso(l.cancelAt),
      trialEndsAt: iso(l.trialEndsAt),
      createdAt: l.createdAt.toISOString(),
      updatedAt: l.updatedAt.toISOString(),
    },
    product: { id: pr.id, slug: pr.slug, name: pr.name },
    plan: {
      id: p.id,
      slug: p.slug,
      name: p.name,
      seats: p.seats,
      durationDays: p.durationDays,
      graceDays: p.graceDays,
      entitlements: p.entitlements,
      offlineTokenTtlSeconds: p.offlineTokenTtlSeconds,
      heartbeatWindowSeconds: p.heartbeatWindowSeconds,
      airGappedTtlDays: p.airGappedTtlDays,
      archivedAt: iso(p.archivedAt),
    },
    customer: { id: c.id, email: c.email, name: c.name },
    activations: machines.map(toActivationView),
    timeline,
  };
}

type LicenseRow = typeof licenses.$inferSelect;

async function licenseTimeline(tx: DbOrTx, l: LicenseRow): Promise<TimelineEntry[]> {
  const audits = await tx
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.subjectType, "license"), eq(auditLog.subjectId, l.id)))
    .orderBy(desc(auditLog.id))
    .limit(TIMELINE_LIMIT);

  // Stripe events about this license's own Stripe objects, plus any event whose processing wrote to it
  // (an invoice or subscription event names the invoice, not the license).
  const objectIds = [l.stripeCheckoutSessionId, l.stripeSubscriptionId, l.stripePaymentIntentId].filter((x): x is string => !!x);
  const actingEvents = [...new Set(audits.filter((a) => a.actorType === "stripe" && a.actorId).map((a) => a.actorId!))];
  const eventConditions = [
    ...(objectIds.length ? [inArray(stripeEvents.objectId, objectIds)] : []),
    ...(actingEvents.length ? [inArray(stripeEvents.id, actingEvents)] : []),
  ];
  const events = eventConditions.length
    ? await tx
        .select({
          id: stripeEvents.id,
          type: stripeEvents.type,
          status: stripeEvents.status,
          lastError: stripeEvents.lastError,
          receivedAt: stripeEvents.receivedAt,
        })
        .from(stripeEvents)
        .where(or(...eventConditions))
        .orderBy(desc(stripeEvents.receivedAt))
        .limit(TIMELINE_LIMIT)
    : [];

  // The customer's emails that are about this license (license-issued lists ids; the others name one).
  const emails = await tx
    .select()
    .from(emailOutbox)
    .where(
      and(
        eq(emailOutbox.customerId, l.customerId),
        sql`(${emailOutbox.props} -> 'licenseIds' ? ${l.id} or ${emailOutbox.props} ->> 'licenseId' = ${l.id})`,
      ),
    )
    .orderBy(desc(emailOutbox.createdAt))
    .limit(TIMELINE_LIMIT);

  const entries: TimelineEntry[] = [
    ...audits.map(
      (a): TimelineEntry => ({
        kind: "audit",
        id: String(a.id),
        at: a.at.toISOString(),
        action: a.action,
        actor: { type: a.actorType, id: a.actorId },
        before: a.before,
        after: a.after,
        metadata: a.metadata ?? null,
      }),
    ),
    ...events.map(
      (e): TimelineEntry => ({
        kind: "stripe_event",
        id: e.id,
        at: e.receivedAt.toISOString(),
        type: e.type,
        status: e.status,
        lastError: e.lastError,
      }),
    ),
    ...emails.map(
      (m): TimelineEntry => ({
        kind: "email",
        id: m.id,
        at: m.createdAt.toISOString(),
        template: m.template,
        to: m.to,
        subject: m.subject,
        status: m.status,
        attempts: m.attempts,
        lastError: m.lastError,
        sentAt: iso(m.sentAt),
      }),
    ),
  ];
  // Newest first. Rows written in one transaction share its instant: the email then sits above the change
  // that caused it, as a later entry would.
  const rank = { email: 0, audit: 1, stripe_event: 2 } as const;
  return entries.sort((a, b) => b.at.localeCompare(a.at) || rank[a.kind] - rank[b.kind]);
}
