import { and, desc, eq, inArray, isNotNull, or } from "drizzle-orm";
import { customers, licenses, payments, plans, products } from "@/server/db/schema";
import type { Db, DbOrTx } from "@/server/db/client";
import { AppError } from "@/server/domain/errors";
import { env } from "@/server/env";
import { describeError, PermanentEventError, stripeClient } from "./stripe-client";

/**
 * The portal's billing: "Manage billing" opens Stripe's customer portal for the signed-in customer's own
 * Stripe customer, and the payments list shows what we already store about their payments (the payments
 * table, written from Stripe's objects by the webhook's processing). Read from our own rows, not Stripe's API:
 * the portal loads without a Stripe call, works while Stripe is down, and can only list payments tied to this
 * customer's licenses (by license, checkout session or subscription), so no id in the input can widen it.
 */

export type CustomerPayment = {
  id: string;
  kind: "purchase" | "subscription_invoice";
  status: string;
  amount: number;
  amountRefunded: number;
  currency: string | null;
  /** Stripe's hosted invoice page (subscription invoices), when Stripe gave one. */
  hostedInvoiceUrl: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  createdAt: string;
  /** What it paid for, in words: "Acme Editor · Pro". */
  forWhat: string | null;
};

export type CustomerBilling = { canManage: boolean; payments: CustomerPayment[] };

export async function customerBilling(db: DbOrTx, customerId: string | null): Promise<CustomerBilling> {
  if (!customerId) return { canManage: false, payments: [] };
  const [customer] = await db.select({ stripeCustomerId: customers.stripeCustomerId, deletedAt: customers.deletedAt }).from(customers).where(eq(customers.id, customerId));
  const owned = await db
    .select({
      id: licenses.id,
      sessionId: licenses.stripeCheckoutSessionId,
      subscriptionId: licenses.stripeSubscriptionId,
      label: products.name,
      plan: plans.name,
    })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(licenses.customerId, customerId));
  const ids = owned.map((l) => l.id);
  const sessions = owned.flatMap((l) => (l.sessionId ? [l.sessionId] : []));
  const subs = owned.flatMap((l) => (l.subscriptionId ? [l.subscriptionId] : []));
  const rows = ids.length
    ? await db
        .select()
        .from(payments)
        .where(
          or(
            inArray(payments.licenseId, ids),
            sessions.length ? and(isNotNull(payments.stripeCheckoutSessionId), inArray(payments.stripeCheckoutSessionId, sessions)) : undefined,
            subs.length ? and(isNotNull(payments.stripeSubscriptionId), inArray(payments.stripeSubscriptionId, subs)) : undefined,
          ),
        )
        .orderBy(desc(payments.createdAt))
        .limit(100)
    : [];
  const label = (p: (typeof rows)[number]) => {
    const l = owned.find((o) => o.id === p.licenseId || (p.stripeCheckoutSessionId && o.sessionId === p.stripeCheckoutSessionId) || (p.stripeSubscriptionId && o.subscriptionId === p.stripeSubscriptionId));
    return l ? `${l.label} · ${l.plan}` : null;
  };
  return {
    canManage: Boolean(customer?.stripeCustomerId && !customer.deletedAt),
    payments: rows
      .filter((p) => p.status !== "draft")
      .map((p) => ({
        id: p.id,
        kind: p.kind,
        status: p.status,
        amount: p.amount,
        amountRefunded: p.amountRefunded,
        currency: p.currency,
        hostedInvoiceUrl: p.hostedInvoiceUrl && /^https:\/\//.test(p.hostedInvoiceUrl) ? p.hostedInvoiceUrl : null,
        periodStart: p.periodStart?.toISOString() ?? null,
        periodEnd: p.periodEnd?.toISOString() ?? null,
        createdAt: p.createdAt.toISOString(),
        forWhat: label(p),
      })),
  };
}

/** A Stripe customer portal session for the signed-in customer's own Stripe customer; its URL to go to. */
export async function createBillingPortalSession(db: Db, customerId: string | null): Promise<{ url: string }> {
  const [customer] = customerId
    ? await db.select({ stripeCustomerId: customers.stripeCustomerId, deletedAt: customers.deletedAt }).from(customers).where(eq(customers.id, customerId))
    : [];
  if (!customer?.stripeCustomerId || customer.deletedAt) {
    throw new AppError("NOT_FOUND", "There is no billing account for you yet: it is made with your first payment.");
  }
  try {
    const session = await stripeClient().billingPortal.sessions.create(
      { customer: customer.stripeCustomerId, return_url: `${env().APP_URL}/portal` },
      { timeout: 10_000, maxNetworkRetries: 1 },
    );
    return { url: session.url };
  } catch (err) {
    if (err instanceof PermanentEventError) throw new AppError("NOT_CONFIGURED", "Billing is not set up on this shop yet.");
    console.warn(`[keystead] could not open the Stripe customer portal: ${describeError(err)}`);
    throw new AppError("UNAVAILABLE", "Billing cannot be reached right now; please try again in a minute.");
  }
}
