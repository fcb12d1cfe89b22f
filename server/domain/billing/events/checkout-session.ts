import type Stripe from "stripe";
import { and, eq, inArray, sql } from "drizzle-orm";
import { customers, licenses, planPrices, plans, type SubscriptionItemFacts } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { addDays, now } from "@/server/domain/clock";
import { upsertCustomerByEmail } from "@/server/domain/customers/upsert";
import { issueLicense } from "@/server/domain/licensing/issue";
import { convertTrialLicense, convertibleTrial } from "@/server/domain/licensing/convert-trial";
import { queueEmail } from "@/server/domain/mail/queue";
import { idOf, lockBillingRoots, readSubscription, savePurchasePayment, saveSubscriptionFacts, type SubscriptionFacts } from "../facts";
import {
  deriveLicenseState,
  initialColumns,
  loadBillingFacts,
  recordLanding,
  syncLicenses,
  type BillingSubject,
  type LicenseSync,
} from "../license-state";
import { PermanentEventError } from "../stripe-client";
import { linkCustomerToExternalUser } from "@/server/domain/integrations/key-commander";

/** The checkout events that may issue licenses; both can arrive for one session, and only one may issue. */
export const ISSUING_CHECKOUT_EVENTS = ["checkout.session.completed", "checkout.session.async_payment_succeeded"];

/** What Stripe says about a checkout session right now, read before any transaction opens. */
export type CheckoutSnapshot = {
  sessionId: string;
  /** "payment" (one-time) or "subscription". */
  mode: string;
  paymentStatus: string;
  /** customer_details.email, or the Stripe customer's email; null when neither is known. */
  email: string | null;
  name: string | null;
  stripeCustomerId: string | null;
  subscriptionId: string | null;
  paymentIntentId: string | null;
  amountTotal: number;
  currency: string | null;
  lineItems: { id: string; priceId: string | null; quantity: number }[];
  /** The subscription a subscription-mode session created, as the API shows it now. */
  subscription: SubscriptionFacts | null;
  /** metadata.supabase_user_id: the storefront user (Key Commander template) the licenses belong to. */
  externalUserId?: string | null;
};

export const isPaid = (paymentStatus: string) => paymentStatus === "paid" || paymentStatus === "no_payment_required";

/**
 * Re-reads a checkout session from the Stripe API: the event that pointed at it may be stale or forged-by-replay,
 * the API is the truth. Line items are not on the session unless expanded, and expansion stops at one page, so
 * they are listed with auto-pagination. An unpaid session is returned without its line items: it issues nothing.
 */
export async function readCheckoutSession(stripe: Stripe, sessionId: string): Promise<CheckoutSnapshot> {
  const session = await stripe.checkout.sessions.retrieve(sessionId);
  const stripeCustomerId = idOf(session.customer);
  const snapshot: CheckoutSnapshot = {
    sessionId: session.id,
    mode: session.mode,
    paymentStatus: session.payment_status,
    email: session.customer_details?.email ?? null,
    name: session.customer_details?.name ?? null,
    stripeCustomerId,
    subscriptionId: idOf(session.subscription),
    paymentIntentId: idOf(session.payment_intent),
    amountTotal: session.amount_total ?? 0,
    currency: session.currency ?? null,
    lineItems: [],
    subscription: null,
    externalUserId: externalUserIdOf(session.metadata),
  };
  if (!isPaid(session.payment_status)) return snapshot;
  if (snapshot.subscriptionId) snapshot.subscription = await readSubscription(stripe, snapshot.subscriptionId);

  for await (const item of stripe.checkout.sessions.listLineItems(session.id, { limit: 100 })) {
    snapshot.lineItems.push({ id: item.id, priceId: item.price?.id ?? null, quantity: item.quantity ?? 1 });
  }
  if (!snapshot.email && stripeCustomerId) {
    const customer = await stripe.customers.retrieve(stripeCustomerId);
    if (!("deleted" in customer && customer.deleted)) {
      snapshot.email = customer.email ?? null;
      snapshot.name ??= customer.name ?? null;
    }
  }
  return snapshot;
}

/** The storefront's user id from the session metadata, when it is a sane one (Stripe allows 500 characters). */
function externalUserIdOf(metadata: Stripe.Metadata | null | undefined): string | null {
  const v = metadata?.supabase_user_id?.trim();
  return v && v.length <= 200 && !v.includes("\u0000") ? v : null;
}

export type SkippedLineItem = {
  lineItemId: string;
  priceId: string | null;
  reason: "already_issued" | "unbound_price" | "no_quantity";
};

export type CheckoutIssueResult = {
  checkoutSessionId: string;
  customerId: string;
  /** Licenses this event issued (empty when another event for the session already issued them). */
  licenseIds: string[];
  issued: {
    licenseId: string;
    lineItemId: string;
    priceId: string;
    plan: string;
    maxActivations: number;
    status: string;
    expiresAt: string | null;
  }[];
  skipped: SkippedLineItem[];
  /** Prices on the session bound to no plan: an admin may bind them and replay the event. */
  unboundPriceIds: string[];
  /** Null when the session's email was already owed (queued by an earlier event), or no license is usable. */
  emailOutboxId: string | null;
  /** State emails the new licenses owed at once (a refund or dispute, or subscription changes, seen before). */
  emails: string[];
  synced?: LicenseSync[];
};

const MAX_SEATS = 2_147_483_647;

/**
 * Issues one license per line item of a paid checkout session, upserts the buyer, and owes them one email
 * listing every key of the session. Call inside the transaction that marks the event processed.
 *
 * Idempotent per line item: `completed` and `async_payment_succeeded` (or a replay) meet at an advisory lock on
 * the session id, and whoever comes second finds the licenses already there (the unique index on session +
 * line item is the backstop).
 */
export async function issueCheckoutLicenses(tx: Tx, actor: Actor, snap: CheckoutSnapshot): Promise<CheckoutIssueResult> {
  if (!snap.email) {
    throw new PermanentEventError(
      `Checkout session ${snap.sessionId} has no customer email (neither customer_details.email nor the Stripe customer's), so there is no one to issue licenses to.`,
    );
  }
  if (snap.lineItems.length === 0) {
    throw new PermanentEventError(`Checkout session ${snap.sessionId} has no line items.`);
  }
  // Serializes every event of this session from here to commit. Runs before the reads below, so under
  // READ COMMITTED they see whatever a previous holder committed.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`checkout-session:${snap.sessionId}`}, 0))`);
  // Then the payment's and subscription's: a refund, dispute or invoice of this purchase processed meanwhile is
  // either committed before the facts below are read, or waits and then finds these licenses.
  await lockBillingRoots(tx, { paymentIntentIds: [snap.paymentIntentId], subscriptionIds: [snap.subscriptionId] });
  if (snap.subscription) await saveSubscriptionFacts(tx, snap.subscription);

  const existing = await tx
    .select({ id: licenses.id, lineItemId: licenses.stripeLineItemId, status: licenses.status })
    .from(licenses)
    .where(eq(licenses.stripeCheckoutSessionId, snap.sessionId));
  const issuedItems = new Set(existing.map((l) => l.lineItemId));

  const priceIds = [...new Set(snap.lineItems.map((i) => i.priceId).filter((p): p is string => p !== null))];
  const bindings = priceIds.length
    ? await tx
        .select({ priceId: planPrices.stripePriceId, plan: plans })
        .from(planPrices)
        .innerJoin(plans, eq(plans.id, planPrices.planId))
        .where(inArray(planPrices.stripePriceId, priceIds))
    : [];
  const planByPrice = new Map(bindings.map((b) => [b.priceId, b.plan]));
  const unboundPriceIds = priceIds.filter((p) => !planByPrice.has(p));

  const anyIssuable = snap.lineItems.some((i) => issuedItems.has(i.id) || (i.priceId && planByPrice.has(i.priceId)));
  if (!anyIssuable) {
    const names = unboundPriceIds.length ? unboundPriceIds.join(", ") : "(line items without a price)";
    throw new PermanentEventError(
      `No plan is bound to the Stripe price(s) of checkout session ${snap.sessionId}: ${names}. Bind them to a plan and replay this event.`,
    );
  }

  const customer = await upsertCustomerByEmail(tx, {
    email: snap.email,
    name: snap.name,
    stripeCustomerId: await freeStripeCustomerId(tx, snap.stripeCustomerId, snap.email),
  });
  // The storefront said whose purchase this is: the buyer's licenses (these and earlier ones) belong to that user.
  if (snap.externalUserId) await linkCustomerToExternalUser(tx, actor, customer.id, snap.externalUserId, "checkout-metadata");

  const result: CheckoutIssueResult = {
    checkoutSessionId: snap.sessionId,
    customerId: customer.id,
    licenseIds: [],
    issued: [],
    skipped: [],
    unboundPriceIds,
    emailOutboxId: null,
    emails: [],
  };
  const takenItems = new Set<string>();
  for (const [index, item] of snap.lineItems.entries()) {
    const plan = item.priceId ? planByPrice.get(item.priceId) : undefined;
    const skip = (reason: SkippedLineItem["reason"]) => result.skipped.push({ lineItemId: item.id, priceId: item.priceId, reason });
    if (issuedItems.has(item.id)) skip("already_issued");
    else if (!plan || !item.priceId) skip("unbound_price");
    else if (item.quantity < 1) skip("no_quantity");
    else {
      const maxActivations = plan.seats * item.quantity;
      if (maxActivations > MAX_SEATS) {
        throw new PermanentEventError(`Line item ${item.id} asks for ${maxActivations} seats, more than a license can hold.`);
      }
      // The license starts in the state Stripe's facts give it now: for a subscription its period, trial and
      // current price (which may already differ from the checkout's), plus any refund or dispute seen earlier.
      const subItem = snap.subscription ? matchSubscriptionItem(snap.subscription.items, item.priceId, index, takenItems) : null;
      if (subItem) takenItems.add(subItem.id);
      const subject: BillingSubject = {
        planId: plan.id,
        maxActivations,
        subscriptionId: snap.subscriptionId,
        subscriptionItemId: subItem?.id ?? null,
        priceId: item.priceId,
        paymentIntentId: snap.subscriptionId ? null : snap.paymentIntentId,
      };
      const facts = await loadBillingFacts(tx, subject);
      const next = deriveLicenseState(subject, facts);
      const [issuedPlan] = next.planId && next.planId !== plan.id ? await tx.select().from(plans).where(eq(plans.id, next.planId)) : [plan];
      const fallbackExpiry = issuedPlan!.durationDays ? addDays(now(), issuedPlan!.durationDays) : null;
      const { expiresAt, stripePriceId, ...billing } = initialColumns(next, issuedPlan!.graceDays, fallbackExpiry);
      // A card-free trial of this product held by this buyer becomes the paid license: same key, same devices.
      const trial = await convertibleTrial(tx, customer.id, issuedPlan!.productId);
      const { license } = await (trial ? convertTrialLicense.bind(null, trial) : issueLicense)(tx, actor, {
        planId: issuedPlan!.id,
        customerId: customer.id,
        maxActivations: next.maxActivations ?? maxActivations,
        expiresAt,
        source: "stripe",
        stripe: {
          checkoutSessionId: snap.sessionId,
          lineItemId: item.id,
          subscriptionId: snap.subscriptionId,
          paymentIntentId: snap.paymentIntentId,
          priceId: stripePriceId ?? item.priceId,
        },
        billing,
      });
      result.emails.push(...(await recordLanding(tx, license, subject, next, facts, { graceDays: issuedPlan!.graceDays, email: snap.email })));
      result.licenseIds.push(license.id);
      result.issued.push({
        licenseId: license.id,
        lineItemId: item.id,
        priceId: item.priceId,
        plan: issuedPlan!.slug,
        maxActivations: license.maxActivations,
        status: license.status,
        expiresAt: license.expiresAt?.toISOString() ?? null,
      });
    }
  }
  // Licenses an earlier event of this session issued follow the subscription facts just saved.
  if (existing.length > 0) result.synced = await syncLicenses(tx, actor, existing.map((l) => l.id));
  if (snap.mode === "payment" && result.issued.length > 0) {
    await savePurchasePayment(tx, {
      sessionId: snap.sessionId,
      paymentIntentId: snap.paymentIntentId,
      amount: snap.amountTotal,
      currency: snap.currency,
      licenseId: snap.lineItems.length === 1 ? result.licenseIds[0]! : null,
    });
  }

  // One email per session, listing every key the session issued (including any an earlier event issued),
  // in line item order.
  // A license revoked before its buyer ever heard of it (refunded, or a dispute lost, before we saw the purchase)
  // is not sent: the key would be useless and the money is back.
  const byLineItem = new Map(existing.filter((l) => l.status !== "revoked").map((l) => [l.lineItemId, l.id]));
  for (const i of result.issued) if (i.status !== "revoked") byLineItem.set(i.lineItemId, i.licenseId);
  const sessionLicenseIds = [
    ...snap.lineItems.flatMap((i) => (byLineItem.has(i.id) ? [byLineItem.get(i.id)!] : [])),
    ...existing.filter((l) => l.status !== "revoked" && !snap.lineItems.some((i) => i.id === l.lineItemId)).map((l) => l.id),
  ];
  if (sessionLicenseIds.length > 0) {
    result.emailOutboxId = await queueEmail(tx, {
      dedupeKey: `license-issued:${snap.sessionId}`,
      template: "license-issued",
      to: snap.email,
      customerId: customer.id,
      props: { licenseIds: sessionLicenseIds, checkoutSessionId: snap.sessionId },
    });
  }
  return result;
}

/**
 * The Stripe customer id to record on the buyer, unless another of our customers (a different email) already
 * holds it: a Stripe customer whose email changed between purchases must not break the unique link.
 */
async function freeStripeCustomerId(tx: Tx, stripeCustomerId: string | null, email: string): Promise<string | null> {
  if (!stripeCustomerId) return null;
  const [holder] = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.stripeCustomerId, stripeCustomerId), sql`lower(${customers.email}) <> lower(${email.trim()})`));
  return holder ? null : stripeCustomerId;
}

/**
 * The subscription item a checkout line item became: the unused item at its price, else the unused item at its
 * position (the price changed before we saw the checkout), else the first.
 */
function matchSubscriptionItem(items: SubscriptionItemFacts[], priceId: string | null, index: number, taken: Set<string>) {
  const free = items.filter((i) => !taken.has(i.id));
  return free.find((i) => i.priceId === priceId) ?? (items[index] && !taken.has(items[index].id) ? items[index] : undefined) ?? free[0] ?? items[0] ?? null;
}
