import { and, eq, isNull } from "drizzle-orm";
import { payments } from "@/server/db/schema";
import { lockBillingRoots, readInvoice, readSubscription, saveInvoicePayment, saveSubscriptionFacts } from "../facts";
import type { LicenseSync } from "../license-state";
import { handler } from "./event-handler";
import { syncFollowers } from "./sync-followers";

export const INVOICE_EVENTS = ["invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"] as const;

/**
 * A subscription invoice paid or failed. The invoice is recorded as a payment (the period it pays for, its
 * payment intent, its hosted page), and the subscription is re-read with it: a renewal extends the licenses
 * because Stripe's subscription says the new period is paid, and the invoice is what the receipt, the
 * payment-failed email and a later refund refer to. The first invoice of a subscription changes nothing the
 * checkout did not already set, and sends nothing (the checkout's email covers it).
 */
export const invoiceHandler = handler({
  objectPrefixes: ["in_"],
  read: async (stripe, id) => {
    const invoice = await readInvoice(stripe, id);
    const subscription = invoice.subscriptionId ? await readSubscription(stripe, invoice.subscriptionId) : null;
    return { invoice, subscription };
  },
  apply: async (tx, actor, { invoice, subscription }) => {
    if (!invoice.subscriptionId || !subscription) {
      return { status: "ignored", result: { invoiceId: invoice.id, reason: "The invoice belongs to no subscription." } };
    }
    await lockBillingRoots(tx, { paymentIntentIds: invoice.paymentIntentIds, subscriptionIds: [subscription.id] });
    await saveSubscriptionFacts(tx, subscription);
    await saveInvoicePayment(tx, invoice);
    const settlement = await syncFollowers(
      tx,
      actor,
      { subscriptionIds: [subscription.id] },
      { invoiceId: invoice.id, invoiceStatus: invoice.status, billingReason: invoice.billingReason, subscriptionId: subscription.id },
    );
    await recordWhatItChanged(tx, invoice.id, invoice.periodEnd, settlement.result.licenses as LicenseSync[]);
    return settlement;
  },
});

/** Notes on the payment the license it paid for and, when this invoice moved its expiry, from where to where. */
async function recordWhatItChanged(tx: Parameters<typeof saveInvoicePayment>[0], invoiceId: string, periodEnd: Date | null, synced: LicenseSync[]) {
  if (synced.length !== 1) return;
  const [s] = synced;
  const moved = s!.changed.includes("expiresAt") && periodEnd !== null && s!.expiresAt === periodEnd.toISOString();
  await tx
    .update(payments)
    .set({ licenseId: s!.licenseId, ...(moved ? { expiresAtBefore: s!.before.expiresAt ? new Date(s!.before.expiresAt) : null, expiresAtAfter: periodEnd } : {}) })
    .where(and(eq(payments.stripeInvoiceId, invoiceId), isNull(payments.expiresAtAfter)));
}
