import type { Metadata } from "next";
import { db } from "@/server/db/client";
import { formatAmount, intervalText } from "@/server/domain/shop/prices";
import { loadStorefront, type StorefrontPlan } from "@/server/domain/shop/storefront";
import { ShopFrame } from "./shop-frame";
import { BuyForm } from "./buy-form";
import { TrialForm } from "./trial-form";
import css from "./shop.module.css";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Pricing" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const ERRORS: Record<string, string> = {
  NOT_FOUND: "That price is not on sale any more. Please pick another.",
  UNAVAILABLE: "Payments cannot be reached right now. Nothing was charged; please try again in a minute.",
  NOT_CONFIGURED: "Payments are not set up on this shop yet.",
  BAD_REQUEST: "Something was missing from that request; please try again.",
};

// GET /pricing: active products and their plans, prices as Stripe states them (cached), Buy and trial buttons.
export default async function PricingPage({ searchParams }: Props) {
  const params = await searchParams;
  const shop = await loadStorefront(db());
  const error = typeof params.error === "string" ? (ERRORS[params.error] ?? "Checkout could not start; please try again.") : null;
  return (
    <ShopFrame settings={shop.settings}>
      <section className={css.hero}>
        <h1>Pricing</h1>
        <p>{shop.settings.tagline || `Pick a plan. Your license key arrives the moment your payment does.`}</p>
      </section>
      {error && (
        <p className={`${css.notice} ${css.error}`} role="alert">
          {error}
        </p>
      )}
      {params.canceled === "1" && (
        <p className={css.notice} role="status">
          Checkout was cancelled. Nothing was charged.
        </p>
      )}
      {shop.anyPriceStale && (
        <p className={css.notice} role="status">
          Some prices could not be checked with our payment provider just now; they are shown as last known. The price
          on the checkout page is the one you pay.
        </p>
      )}
      {shop.products.length === 0 ? (
        <p className={`${css.notice} ${css.narrow}`}>Nothing is on sale yet. Please check back soon.</p>
      ) : (
        shop.products.map((product) => (
          <section key={product.slug} className={css.product} aria-labelledby={`product-${product.slug}`}>
            <h2 id={`product-${product.slug}`}>{product.name}</h2>
            <div className={css.grid}>
              {product.plans.map((plan) => (
                <PlanCard key={plan.id} plan={plan} productName={product.name} />
              ))}
            </div>
          </section>
        ))
      )}
    </ShopFrame>
  );
}

function PlanCard({ plan, productName }: { plan: StorefrontPlan; productName: string }) {
  const seats = plan.seats === 1 ? "1 device" : `${plan.seats} devices`;
  const term = plan.durationDays ? `${plan.durationDays} days of updates and use` : null;
  return (
    <article className={css.card} aria-labelledby={`plan-${plan.slug}`}>
      <h3 id={`plan-${plan.slug}`}>{plan.name}</h3>
      {plan.description && <p className={css.description}>{plan.description}</p>}
      {plan.prices.map((p) => (
        <div key={p.priceId} className={css.priceRow}>
          {p.price && p.price.unitAmount !== null ? (
            <div>
              <span className={css.amount}>{formatAmount(p.price.unitAmount, p.price.currency)}</span>
              <span className={css.interval}>{intervalText(p.price)}</span>
              {p.state === "stale" && <span className={css.small}> (last known price)</span>}
            </div>
          ) : (
            <div className={css.unavailable}>Price unavailable right now</div>
          )}
          <BuyForm
            priceId={p.priceId}
            label={p.price?.mode === "subscription" ? "Subscribe" : "Buy now"}
            // The visible words first (label in name), then which plan and how it is billed.
            ariaLabel={`${p.price?.mode === "subscription" ? "Subscribe" : "Buy now"}: ${productName} ${plan.name}${p.price?.interval ? `, billed ${intervalText(p.price).replace("/ ", "every ")}` : ""}`}
          />
        </div>
      ))}
      <ul className={css.features}>
        <li>{seats}</li>
        {term && <li>{term}</li>}
        {plan.entitlements.map((e) => (
          <li key={e}>{featureName(e)}</li>
        ))}
      </ul>
      <div className={css.spacer} />
      {plan.trialDays ? <TrialForm plan={plan.slug} trialDays={plan.trialDays} planLabel={`${productName} ${plan.name}`} /> : null}
    </article>
  );
}

/** "export-pdf" -> "Export pdf": entitlement slugs read as features. */
function featureName(entitlement: string) {
  const words = entitlement.replace(/[-_.:]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
