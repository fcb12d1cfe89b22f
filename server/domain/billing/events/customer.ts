import Stripe from "stripe";
import { and, eq, ne, sql } from "drizzle-orm";
import { customers } from "@/server/db/schema";
import { recordAudit } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { emitCustomerUpdated } from "@/server/domain/webhooks/emit";
import { readClock } from "../facts";
import { handler } from "./event-handler";
import { logger } from "@/server/observability/log";

export const CUSTOMER_EVENTS = ["customer.updated", "customer.deleted"] as const;

type CustomerSnapshot = { id: string; deleted: boolean; email: string | null; name: string | null; observedAt: Date };

/**
 * Keeps our customer in line with the Stripe customer it is linked to (customers.stripe_customer_id), read from
 * the API whichever event pointed at it:
 *  - deleted on Stripe: deleted_at is set. The customer, their licenses and the Stripe id stay (the id names
 *    which Stripe customer it was; Stripe never reuses ids).
 *  - email changed: ours follows, unless another of our customers already has that email. Then ours is left as
 *    it is and the conflict is recorded (event result and audit row) for an admin to resolve: merging two
 *    customers' licenses is not something to do silently on a webhook.
 * A read that started before the one last applied (two jobs for this customer crossed) changes nothing.
 */
export const customerHandler = handler({
  objectPrefixes: ["cus_"],
  read: async (stripe, id): Promise<CustomerSnapshot> => {
    const observedAt = readClock();
    try {
      const c = await stripe.customers.retrieve(id);
      if ("deleted" in c && c.deleted) return { id, deleted: true, email: null, name: null, observedAt };
      const live = c as Stripe.Customer;
      return { id, deleted: false, email: live.email ?? null, name: live.name ?? null, observedAt };
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === "resource_missing") {
        return { id, deleted: true, email: null, name: null, observedAt };
      }
      throw err;
    }
  },
  apply: async (tx, actor, snap) => {
    const [ours] = await tx.select().from(customers).where(eq(customers.stripeCustomerId, snap.id)).for("update");
    if (!ours) {
      return { status: "ignored", result: { stripeCustomerId: snap.id, reason: "No customer of ours is linked to this Stripe customer." } };
    }
    const base = { stripeCustomerId: snap.id, customerId: ours.id };
    if (ours.stripeObservedAt && ours.stripeObservedAt > snap.observedAt) {
      return { status: "processed", result: { ...base, changed: false, stale: "A later read of this Stripe customer was already applied." } };
    }
    const observed = () => tx.update(customers).set({ stripeObservedAt: snap.observedAt }).where(eq(customers.id, ours.id));
    if (snap.deleted) {
      if (ours.deletedAt) return { status: "processed", result: { ...base, deleted: true, changed: false } };
      const at = now();
      await tx.update(customers).set({ deletedAt: at, stripeObservedAt: snap.observedAt }).where(eq(customers.id, ours.id));
      await recordAudit(tx, actor, {
        action: "customer.stripe_deleted",
        subjectType: "customer",
        subjectId: ours.id,
        before: { deletedAt: null },
        after: { deletedAt: at.toISOString() },
      });
      return { status: "processed", result: { ...base, deleted: true, changed: true } };
    }
    const email = snap.email?.trim();
    if (!email || email.toLowerCase() === ours.email.toLowerCase()) {
      await observed();
      return { status: "processed", result: { ...base, changed: false } };
    }
    const [other] = await tx
      .select({ id: customers.id })
      .from(customers)
      .where(and(sql`lower(${customers.email}) = lower(${email})`, ne(customers.id, ours.id)));
    if (other) {
      await observed();
      await recordAudit(tx, actor, {
        action: "customer.email_conflict",
        subjectType: "customer",
        subjectId: ours.id,
        before: { email: ours.email },
        after: { email: ours.email },
        metadata: { stripeEmail: email, heldByCustomerId: other.id },
      });
      logger().warn(`[keystead] Stripe customer ${snap.id} changed email to one another customer (${other.id}) has; left unchanged.`);
      return {
        status: "processed",
        result: { ...base, changed: false, conflict: { email, heldByCustomerId: other.id } },
      };
    }
    await tx.update(customers).set({ email, name: ours.name ?? snap.name, stripeObservedAt: snap.observedAt }).where(eq(customers.id, ours.id));
    await recordAudit(tx, actor, {
      action: "customer.email_changed",
      subjectType: "customer",
      subjectId: ours.id,
      before: { email: ours.email },
      after: { email },
    });
    await emitCustomerUpdated(tx, { id: ours.id, email, name: ours.name ?? snap.name }, ours.email);
    return { status: "processed", result: { ...base, changed: true, email } };
  },
});
