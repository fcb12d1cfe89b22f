import { and, asc, eq, isNull } from "drizzle-orm";
import { planPrices, plans, products } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { cachedPrices, type CachedPrice } from "./prices";
import { planOptionsFor, readShopSettings, type ShopSettings } from "./settings";

/** What the pricing page shows: active products, their listed plans, and each plan's prices as Stripe states them. */
export type StorefrontPlan = {
  id: string;
  slug: string;
  name: string;
  description: string;
  seats: number;
  entitlements: string[];
  durationDays: number | null;
  trialDays: number | null;
  prices: CachedPrice[];
};
export type StorefrontProduct = { slug: string; name: string; plans: StorefrontPlan[] };
export type Storefront = { settings: ShopSettings; products: StorefrontProduct[]; anyPriceStale: boolean };

export async function loadStorefront(db: Db): Promise<Storefront> {
  const settings = await readShopSettings(db);
  const rows = await db
    .select({ product: products, plan: plans })
    .from(plans)
    .innerJoin(products, eq(products.id, plans.productId))
    .where(and(isNull(plans.archivedAt), isNull(products.archivedAt)))
    .orderBy(asc(products.name), asc(plans.seats), asc(plans.createdAt));
  const listed = rows.filter((r) => planOptionsFor(settings, r.plan.id).listed);
  const bindings = listed.length
    ? await db.select().from(planPrices).orderBy(asc(planPrices.stripePriceId))
    : [];
  const pricesByPlan = new Map<string, string[]>();
  for (const b of bindings) pricesByPlan.set(b.planId, [...(pricesByPlan.get(b.planId) ?? []), b.stripePriceId]);
  const wanted = listed.flatMap((r) => pricesByPlan.get(r.plan.id) ?? []);
  const prices = await cachedPrices(db, wanted);

  const byProduct = new Map<string, StorefrontProduct>();
  for (const { product, plan } of listed) {
    const planPricesHere = (pricesByPlan.get(plan.id) ?? [])
      .map((id) => prices.get(id)!)
      // A price archived in Stripe is not for sale any more.
      .filter((p) => p.state === "unavailable" || p.price.active);
    // A plan with neither a price nor a trial has nothing to offer here.
    if (planPricesHere.length === 0 && !plan.trialDays) continue;
    const entry = byProduct.get(product.id) ?? { slug: product.slug, name: product.name, plans: [] };
    entry.plans.push({
      id: plan.id,
      slug: plan.slug,
      name: plan.name,
      description: planOptionsFor(settings, plan.id).description,
      seats: plan.seats,
      entitlements: plan.entitlements,
      durationDays: plan.durationDays,
      trialDays: plan.trialDays,
      prices: planPricesHere,
    });
    byProduct.set(product.id, entry);
  }
  const all = [...byProduct.values()];
  return {
    settings,
    products: all,
    anyPriceStale: all.some((p) => p.plans.some((pl) => pl.prices.some((pr) => pr.state !== "fresh"))),
  };
}
