import crypto from "node:crypto";
import { customers, planPrices, plans, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { SYSTEM } from "@/server/domain/audit/record";
import { issueLicense } from "@/server/domain/licensing/issue";
import { upsertCustomerByEmail } from "@/server/domain/customers/upsert";

/** Test data builders. They write real rows; ids and slugs are unique per call. */

const uniq = () => crypto.randomBytes(3).toString("hex");

export async function makeProduct(db: DbOrTx, over: Partial<typeof products.$inferInsert> = {}) {
  const s = uniq();
  const [row] = await db.insert(products).values({ slug: `app-${s}`, name: `App ${s}`, ...over }).returning();
  return row!;
}

export async function makePlan(
  db: DbOrTx,
  over: Partial<typeof plans.$inferInsert> & { stripePriceIds?: string[] } = {},
) {
  const { stripePriceIds = [], ...rest } = over;
  const productId = rest.productId ?? (await makeProduct(db)).id;
  const s = uniq();
  const [plan] = await db
    .insert(plans)
    .values({ slug: `plan-${s}`, name: `Plan ${s}`, seats: 1, entitlements: [], ...rest, productId })
    .returning();
  if (stripePriceIds.length) {
    await db.insert(planPrices).values(stripePriceIds.map((stripePriceId) => ({ stripePriceId, planId: plan!.id })));
  }
  return plan!;
}

export async function makeCustomer(db: DbOrTx, email = `buyer-${uniq()}@example.com`) {
  return upsertCustomerByEmail(db, { email });
}

/** A license with its plain key. */
export async function makeLicense(
  db: DbOrTx,
  opts: { planId?: string; customerId?: string; maxActivations?: number; expiresAt?: Date | null } = {},
) {
  const planId = opts.planId ?? (await makePlan(db)).id;
  const customerId = opts.customerId ?? (await makeCustomer(db)).id;
  return issueLicense(db, SYSTEM, {
    planId,
    customerId,
    maxActivations: opts.maxActivations,
    expiresAt: opts.expiresAt,
    source: "manual",
  });
}

export { customers };
