import { and, desc, eq, inArray, ne, or, sql, type SQL } from "drizzle-orm";
import { emitCustomerUpdated } from "@/server/domain/webhooks/emit";
import { z } from "zod";
import { customers, emailOutbox, licenses, payments as paymentsTable, stripeEvents } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { AppError } from "@/server/domain/errors";
import { Email } from "@/server/domain/licensing/manual";
import { CursorInput, decodeCursor, isShortText, isUuid, LimitInput, page } from "./cursor";
import { likePrefix, loadAdminLicenseRows, type AdminLicenseRow } from "./search";
import { storable } from "./text";

/**
 * Customers in the admin app: find them, see everything about one, and correct an email address.
 *
 * The directory is ordered by lower(email) with the "pattern" operators (~<~), which is exactly the order of
 * customers_email_prefix_idx (text_pattern_ops): the prefix filter and the keyset page are one index range
 * scan, under any database collation.
 */

export const SearchCustomersInput = z.object({
  /** The start of an email, a customer id, or a Stripe customer id (cus_…). */
  q: z.string().trim().max(320).refine(storable, "must not contain NUL characters or unpaired surrogates").optional(),
  cursor: CursorInput.optional(),
  limit: LimitInput(100, 25),
});
export type SearchCustomersInput = z.input<typeof SearchCustomersInput>;

export type AdminCustomerRow = {
  id: string;
  email: string;
  name: string | null;
  stripeCustomerId: string | null;
  licenses: number;
  createdAt: string;
  deletedAt: string | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const customerColumns = {
  id: customers.id,
  email: customers.email,
  name: customers.name,
  stripeCustomerId: customers.stripeCustomerId,
  // Spelled out: in a one-table select drizzle leaves columns unqualified, and inside this sub-select an
  // unqualified "id" would mean the license's.
  licenses: sql<number>`(select count(*)::int from ${licenses} l where l.customer_id = ${customers}.id)`,
  createdAt: customers.createdAt,
  deletedAt: customers.deletedAt,
  sortKey: sql<string>`lower(${customers.email})`,
};

type CustomerSelect = {
  id: string;
  email: string;
  name: string | null;
  stripeCustomerId: string | null;
  licenses: number;
  createdAt: Date;
  deletedAt: Date | null;
};

const toRow = (r: CustomerSelect): AdminCustomerRow => ({
  id: r.id,
  email: r.email,
  name: r.name,
  stripeCustomerId: r.stripeCustomerId,
  licenses: r.licenses,
  createdAt: r.createdAt.toISOString(),
  deletedAt: iso(r.deletedAt),
});

export async function searchCustomers(tx: DbOrTx, rawInput: SearchCustomersInput) {
  const input = SearchCustomersInput.parse(rawInput);
  const q = input.q ?? "";
  const where: SQL[] = [];
  if (isUuid(q)) where.push(eq(customers.id, q));
  else if (/^cus_\w+$/.test(q)) where.push(eq(customers.stripeCustomerId, q));
  else if (q) where.push(sql`lower(${customers.email}) like ${likePrefix(q)}`);
  if (input.cursor) {
    const [last] = decodeCursor(input.cursor, [isShortText]);
    where.push(sql`lower(${customers.email}) ~>~ ${last}`);
  }
  const rows = await tx
    .select(customerColumns)
    .from(customers)
    .where(and(...where))
    .orderBy(sql`lower(${customers.email}) using ~<~`)
    .limit(input.limit + 1);
  const { data, nextCursor } = page(rows, input.limit, (r) => [r.sortKey]);
  return { data: data.map(toRow), nextCursor };
}

export type CustomerEmailRow = {
  id: string;
  template: string;
  to: string;
  subject: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
};

/** A payment recorded from Stripe (a checkout or a subscription invoice) for one of the customer's licenses. */
export type CustomerPayment = {
  id: string;
  kind: string;
  status: string;
  /** Minor units (cents). */
  amount: number;
  amountRefunded: number;
  currency: string | null;
  billingReason: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  licenseId: string | null;
  stripeCheckoutSessionId: string | null;
  stripeInvoiceId: string | null;
  stripeSubscriptionId: string | null;
  createdAt: string;
};

/** The Stripe objects on each of the customer's licenses, and the events we received about them. */
export type CustomerStripeRefs = {
  licenseId: string;
  keyHint: string;
  checkoutSessionId: string | null;
  subscriptionId: string | null;
  paymentIntentId: string | null;
  priceId: string | null;
  events: { id: string; type: string; status: string; receivedAt: string }[];
};

export type CustomerDetail = {
  customer: AdminCustomerRow;
  licenses: AdminLicenseRow[];
  emails: CustomerEmailRow[];
  payments: CustomerPayment[];
  stripe: CustomerStripeRefs[];
};

const DETAIL_LIMIT = 200;

export async function getCustomerDetail(tx: DbOrTx, id: string): Promise<CustomerDetail> {
  const [found] = isUuid(id)
    ? await tx.select(customerColumns).from(customers).where(eq(customers.id, id))
    : [];
  if (!found) throw new AppError("NOT_FOUND", "There is no customer with that id.");

  const owned = await tx
    .select({
      id: licenses.id,
      keyHint: licenses.keyHint,
      checkoutSessionId: licenses.stripeCheckoutSessionId,
      subscriptionId: licenses.stripeSubscriptionId,
      paymentIntentId: licenses.stripePaymentIntentId,
      priceId: licenses.stripePriceId,
    })
    .from(licenses)
    .where(eq(licenses.customerId, id))
    .orderBy(desc(licenses.createdAt), desc(licenses.id))
    .limit(DETAIL_LIMIT);

  const emails = await tx
    .select()
    .from(emailOutbox)
    .where(eq(emailOutbox.customerId, id))
    .orderBy(desc(emailOutbox.createdAt))
    .limit(DETAIL_LIMIT);

  const objectIds = [
    ...new Set(owned.flatMap((l) => [l.checkoutSessionId, l.subscriptionId, l.paymentIntentId]).filter((x): x is string => !!x)),
  ];
  const events = objectIds.length
    ? await tx
        .select({
          id: stripeEvents.id,
          type: stripeEvents.type,
          status: stripeEvents.status,
          receivedAt: stripeEvents.receivedAt,
          objectId: stripeEvents.objectId,
        })
        .from(stripeEvents)
        .where(inArray(stripeEvents.objectId, objectIds))
        .orderBy(desc(stripeEvents.receivedAt))
        .limit(DETAIL_LIMIT)
    : [];

  // Payments name their license, or (for a checkout of several line items) the checkout session they paid.
  const sessionIds = [...new Set(owned.map((l) => l.checkoutSessionId).filter((x): x is string => !!x))];
  const paid = owned.length
    ? await tx
        .select()
        .from(paymentsTable)
        .where(
          or(
            inArray(
              paymentsTable.licenseId,
              owned.map((l) => l.id),
            ),
            ...(sessionIds.length ? [inArray(paymentsTable.stripeCheckoutSessionId, sessionIds)] : []),
          ),
        )
        .orderBy(desc(paymentsTable.createdAt))
        .limit(DETAIL_LIMIT)
    : [];

  const stripe = owned
    .filter((l) => l.checkoutSessionId || l.subscriptionId || l.paymentIntentId)
    .map((l) => {
      const ids = new Set([l.checkoutSessionId, l.subscriptionId, l.paymentIntentId].filter(Boolean));
      return {
        licenseId: l.id,
        keyHint: l.keyHint,
        checkoutSessionId: l.checkoutSessionId,
        subscriptionId: l.subscriptionId,
        paymentIntentId: l.paymentIntentId,
        priceId: l.priceId,
        events: events
          .filter((e) => e.objectId && ids.has(e.objectId))
          .map((e) => ({ id: e.id, type: e.type, status: e.status, receivedAt: e.receivedAt.toISOString() })),
      };
    });

  return {
    customer: toRow(found),
    licenses: await loadAdminLicenseRows(
      tx,
      owned.map((l) => l.id),
    ),
    emails: emails.map((m) => ({
      id: m.id,
      template: m.template,
      to: m.to,
      subject: m.subject,
      status: m.status,
      attempts: m.attempts,
      lastError: m.lastError,
      createdAt: m.createdAt.toISOString(),
      sentAt: iso(m.sentAt),
    })),
    payments: paid.map((p) => ({
      id: p.id,
      kind: p.kind,
      status: p.status,
      amount: p.amount,
      amountRefunded: p.amountRefunded,
      currency: p.currency,
      billingReason: p.billingReason,
      periodStart: iso(p.periodStart),
      periodEnd: iso(p.periodEnd),
      licenseId: p.licenseId,
      stripeCheckoutSessionId: p.stripeCheckoutSessionId,
      stripeInvoiceId: p.stripeInvoiceId,
      stripeSubscriptionId: p.stripeSubscriptionId,
      createdAt: p.createdAt.toISOString(),
    })),
    stripe,
  };
}

export const ChangeCustomerEmailInput = z.strictObject({ email: Email });
export type ChangeCustomerEmailInput = z.infer<typeof ChangeCustomerEmailInput>;

/** PostgreSQL's unique_violation, wherever the driver or drizzle put it. */
function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === "23505") return true;
  }
  return false;
}

/**
 * Corrects a customer's email. Emails are unique case-insensitively (one person, one customer); a change to
 * another customer's address is refused rather than merging the two. Changing only the case is allowed.
 * Future emails go to the new address, and the customer signs in to the portal with it. Stripe keeps its own
 * copy of the address: change it there too if they pay by subscription.
 */
export async function changeCustomerEmail(tx: Tx, actor: Actor, id: string, input: ChangeCustomerEmailInput) {
  const [row] = isUuid(id) ? await tx.select().from(customers).where(eq(customers.id, id)).for("update") : [];
  if (!row) throw new AppError("NOT_FOUND", "There is no customer with that id.");
  const email = input.email.trim();
  if (email === row.email) return { customer: row };

  const [taken] = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(and(sql`lower(${customers.email}) = lower(${email})`, ne(customers.id, id)));
  if (taken) throw new AppError("ALREADY_EXISTS", `Another customer already has the email ${email}.`, { customerId: taken.id });

  let updated;
  try {
    [updated] = await tx.update(customers).set({ email }).where(eq(customers.id, id)).returning();
  } catch (err) {
    // Someone took the address between the check and the update (the unique index on lower(email) decides).
    if (isUniqueViolation(err)) throw new AppError("ALREADY_EXISTS", `Another customer already has the email ${email}.`);
    throw err;
  }
  await recordAudit(tx, actor, {
    action: "customer.email_changed",
    subjectType: "customer",
    subjectId: id,
    before: { email: row.email },
    after: { email },
  });
  await emitCustomerUpdated(tx, updated!, row.email);
  return { customer: updated! };
}
