import { inArray, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { appState } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { env } from "@/server/env";
import { stripeClient } from "@/server/domain/billing/stripe-client";

/**
 * Prices as Stripe states them (amount, currency, interval), cached in app_state ("stripe.price:<id>") so the
 * pricing page renders without waiting for Stripe on every visit, and still renders when Stripe is down: a
 * stale entry is shown (the page marks it) and a price never read shows "price unavailable right now".
 */
export type PriceFacts = {
  id: string;
  /** Minor units; null for a price without a fixed amount (pay what you want, tiered). */
  unitAmount: number | null;
  currency: string;
  /** "payment": one-time; "subscription": recurring. Checkout's mode follows it. */
  mode: "payment" | "subscription";
  /** "day", "week", "month", "year"; null: one-time. */
  interval: string | null;
  intervalCount: number;
  active: boolean;
  /** When it was read from Stripe (ISO-8601). */
  fetchedAt: string;
};

export type CachedPrice =
  | { priceId: string; state: "fresh" | "stale"; price: PriceFacts }
  | { priceId: string; state: "unavailable"; price: null };

const cacheKey = (priceId: string) => `stripe.price:${priceId}`;
const STRIPE_READ_TIMEOUT_MS = 3_000;
/** After Stripe failed, the page does not ask again for this long: a down API must not slow every visit. */
const BACKOFF_MS = 30_000;
const holder = globalThis as unknown as { __keysteadPriceBackoffUntil?: number };

export function priceFacts(price: Stripe.Price, fetchedAt = new Date()): PriceFacts {
  return {
    id: price.id,
    unitAmount: price.unit_amount ?? null,
    currency: price.currency,
    mode: price.type === "recurring" || price.recurring ? "subscription" : "payment",
    interval: price.recurring?.interval ?? null,
    intervalCount: price.recurring?.interval_count ?? 1,
    active: price.active,
    fetchedAt: fetchedAt.toISOString(),
  };
}

/** Reads one price from Stripe (short timeout, no retry: a page is waiting) and caches it. */
export async function fetchPrice(db: Db, priceId: string): Promise<PriceFacts> {
  const price = await stripeClient().prices.retrieve(priceId, {}, { timeout: STRIPE_READ_TIMEOUT_MS, maxNetworkRetries: 0 });
  const facts = priceFacts(price);
  await db
    .insert(appState)
    .values({ key: cacheKey(priceId), value: facts })
    .onConflictDoUpdate({ target: appState.key, set: { value: facts, updatedAt: sql`now()` } });
  return facts;
}

/**
 * The prices, from the cache when fresh, else read from Stripe (in parallel); on a Stripe failure the stale
 * entry, or "unavailable". Never throws for Stripe's sake.
 */
export async function cachedPrices(db: Db, priceIds: string[]): Promise<Map<string, CachedPrice>> {
  const out = new Map<string, CachedPrice>();
  if (priceIds.length === 0) return out;
  const rows = await db
    .select({ key: appState.key, value: appState.value })
    .from(appState)
    .where(inArray(appState.key, priceIds.map(cacheKey)));
  const cached = new Map(rows.map((r) => [r.key, r.value as PriceFacts]));
  const ttlMs = env().PRICE_CACHE_TTL_SECONDS * 1000;
  const stripeUsable = Boolean(env().STRIPE_SECRET_KEY) && (holder.__keysteadPriceBackoffUntil ?? 0) < Date.now();
  await Promise.all(
    priceIds.map(async (priceId) => {
      const hit = cached.get(cacheKey(priceId));
      if (hit && Date.now() - new Date(hit.fetchedAt).getTime() < ttlMs) {
        out.set(priceId, { priceId, state: "fresh", price: hit });
        return;
      }
      if (stripeUsable) {
        try {
          out.set(priceId, { priceId, state: "fresh", price: await fetchPrice(db, priceId) });
          return;
        } catch (err) {
          holder.__keysteadPriceBackoffUntil = Date.now() + BACKOFF_MS;
          console.warn(`[keystead] could not read Stripe price ${priceId} for the pricing page: ${(err as Error).message}`);
        }
      }
      out.set(priceId, hit ? { priceId, state: "stale", price: hit } : { priceId, state: "unavailable", price: null });
    }),
  );
  return out;
}

/** Forgets the "Stripe is down" pause (tests, and the admin's save of shop settings). */
export function resetPriceBackoff() {
  holder.__keysteadPriceBackoffUntil = 0;
}

/** "$19", "€9.50", "¥1,200": the amount in the price's currency. */
export function formatAmount(unitAmount: number, currency: string): string {
  const fmt = new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() });
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  const value = unitAmount / 10 ** digits;
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: currency.toUpperCase(),
    minimumFractionDigits: Number.isInteger(value) ? 0 : digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** "/ month", "/ 3 months", "one-time". */
export function intervalText(p: Pick<PriceFacts, "interval" | "intervalCount">): string {
  if (!p.interval) return "one-time";
  return p.intervalCount === 1 ? `/ ${p.interval}` : `/ ${p.intervalCount} ${p.interval}s`;
}
