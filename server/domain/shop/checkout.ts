import crypto from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import type Stripe from "stripe";
import { z } from "zod";
import { listLicenseDownloads } from "@/server/domain/releases/access";
import { LatestReleaseOutput } from "@/server/domain/releases/inputs";
import { customers, licenses, planPrices, plans, products } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import type { AppSession } from "@/server/auth/session";
import { useSecureCookies } from "@/server/auth/session";
import type { Actor } from "@/server/domain/audit/record";
import { isPaid, issueCheckoutLicenses, readCheckoutSession } from "@/server/domain/billing/events/checkout-session";
import { PermanentEventError, describeError, stripeClient } from "@/server/domain/billing/stripe-client";
import { AppError } from "@/server/domain/errors";
import { revealLicenseKey } from "@/server/domain/licensing/license-key";
import { mac } from "@/server/domain/secret-box";
import { env } from "@/server/env";
import { cachedPrices, fetchPrice, type PriceFacts } from "./prices";
import { planOptionsFor, readShopSettings } from "./settings";

/**
 * Buying from the pricing page: POST /api/v1/checkout makes a Stripe Checkout Session for one price and sends
 * the browser to it; the success page then asks GET /api/v1/checkout/sessions/{id} until the webhook has
 * issued the license, and shows its key to the buyer, and to nobody else.
 *
 * Who may see the keys of a session (a session id alone never shows one: it sits in URLs, browser history and
 * Referer headers):
 * - the browser our checkout sent to Stripe: the answer that redirected it set a cookie naming the session, MACed
 *   under AUTH_SECRET, and the cookie is honoured for CHECKOUT_PROOF_HOURS after the session was made; or
 * - the signed-in customer the licenses belong to (a Payment Link buyer who signs in, a return visit).
 */

export const CreateCheckoutInput = z.object({
  price: z.string().trim().min(1).max(255),
  email: z.email().max(320).optional(),
});
export type CreateCheckoutInput = z.infer<typeof CreateCheckoutInput>;
export const CreateCheckoutOutput = z.object({ url: z.url(), sessionId: z.string() });

export const CheckoutSessionParams = z.object({ id: z.string().regex(/^cs_[A-Za-z0-9_]{1,255}$/, "Not a Stripe Checkout Session id.") });

export const CheckoutLicenseView = z.object({
  id: z.string(),
  key: z.string(),
  product: z.string(),
  productName: z.string(),
  plan: z.string(),
  planName: z.string(),
  status: z.string(),
  maxActivations: z.number(),
  expiresAt: z.string().nullable(),
  entitlements: z.array(z.string()),
  /** What the license may download now, each through a short-lived signed link (server/domain/releases). */
  downloads: z.array(LatestReleaseOutput),
});
export const CheckoutSessionStatus = z.object({
  status: z.enum(["processing", "complete"]),
  licenses: z.array(CheckoutLicenseView),
  /** False when this caller may not see the session's licenses (no proof): sign in, or read the email. */
  visible: z.boolean(),
  /** Where the key was emailed (visible sessions only). */
  email: z.string().nullable(),
});
export type CheckoutSessionStatus = z.infer<typeof CheckoutSessionStatus>;
export type CheckoutLicenseView = z.infer<typeof CheckoutLicenseView>;

/** How long after its checkout the buyer's cookie still shows the keys. */
export const CHECKOUT_PROOF_HOURS = 24;
const PROOF_PURPOSE = "checkout-proof";
const MAX_PROOF_ENTRIES = 5;

export const checkoutCookieName = () => `${useSecureCookies() ? "__Secure-" : ""}keystead.checkout`;

type ProofEntry = [sessionId: string, createdAtSeconds: number];

/** The sessions a cookie proves, by id -> creation time (ms); a cookie with a bad MAC proves nothing. */
export function readCheckoutProof(cookieValue: string | null | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!cookieValue || cookieValue.length > 4000) return out;
  const dot = cookieValue.lastIndexOf(".");
  if (dot < 0) return out;
  const payload = cookieValue.slice(0, dot);
  const given = Buffer.from(cookieValue.slice(dot + 1));
  const expected = Buffer.from(mac(PROOF_PURPOSE, payload));
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return out;
  try {
    const entries = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ProofEntry[];
    const cutoff = Date.now() - CHECKOUT_PROOF_HOURS * 3600_000;
    for (const [id, t] of Array.isArray(entries) ? entries : []) {
      if (typeof id === "string" && typeof t === "number" && t * 1000 > cutoff) out.set(id, t * 1000);
    }
  } catch {
    /* proves nothing */
  }
  return out;
}

/** The Set-Cookie value adding `sessionId` to what the browser already proves (the newest few). */
export function checkoutProofCookie(existing: string | null | undefined, sessionId: string): string {
  const kept = [...readCheckoutProof(existing)].map(([id, ms]): ProofEntry => [id, Math.floor(ms / 1000)]);
  const fresh: ProofEntry = [sessionId, Math.floor(Date.now() / 1000)];
  const entries: ProofEntry[] = [...kept.filter(([id]) => id !== sessionId), fresh].slice(-MAX_PROOF_ENTRIES);
  const payload = Buffer.from(JSON.stringify(entries)).toString("base64url");
  const secure = useSecureCookies() ? "; Secure" : "";
  // Lax: the cookie comes back on the top-level GET from Stripe's success redirect.
  return `${checkoutCookieName()}=${payload}.${mac(PROOF_PURPOSE, payload)}; Path=/; Max-Age=${CHECKOUT_PROOF_HOURS * 3600}; HttpOnly; SameSite=Lax${secure}`;
}

export function cookieValue(cookieHeader: string | null | undefined, name: string): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

/** The plan a price sells, if it is bound to an active plan of an active product. */
async function sellablePlan(db: Db, priceId: string) {
  const [row] = await db
    .select({ plan: plans, product: products })
    .from(planPrices)
    .innerJoin(plans, eq(plans.id, planPrices.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(and(eq(planPrices.stripePriceId, priceId), isNull(plans.archivedAt), isNull(products.archivedAt)));
  return row ?? null;
}

/**
 * Creates the Stripe Checkout Session for one price: the mode follows the price (recurring: subscription),
 * the plan goes in metadata, the signed-in customer's email is filled in (or their Stripe customer reused),
 * and the plan's shop options turn on automatic tax and promotion codes. No transaction is open meanwhile.
 */
export async function createCheckout(db: Db, input: CreateCheckoutInput, who: { session: AppSession | null }) {
  const bound = await sellablePlan(db, input.price);
  if (!bound) throw new AppError("NOT_FOUND", "No plan on sale has that price.");
  const settings = await readShopSettings(db);
  const options = planOptionsFor(settings, bound.plan.id);

  let price: PriceFacts | null = (await cachedPrices(db, [input.price])).get(input.price)?.price ?? null;
  if (!price) {
    try {
      price = await fetchPrice(db, input.price);
    } catch (err) {
      throw stripeUnavailable(err);
    }
  }
  if (!price.active) throw new AppError("NOT_FOUND", "That price is no longer on sale.");

  const [customer] = who.session?.customerId
    ? await db.select().from(customers).where(eq(customers.id, who.session.customerId))
    : [];
  const email = who.session?.user.email ?? input.email;
  const { APP_URL } = env();
  const metadata = { keystead_plan: bound.plan.slug, keystead_plan_id: bound.plan.id };
  const params: Stripe.Checkout.SessionCreateParams = {
    mode: price.mode,
    line_items: [{ price: input.price, quantity: 1 }],
    success_url: `${APP_URL}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${APP_URL}/pricing?canceled=1`,
    metadata,
    ...(price.mode === "subscription" ? { subscription_data: { metadata } } : { payment_intent_data: { metadata }, customer_creation: "always" }),
    ...(customer?.stripeCustomerId && !customer.deletedAt
      ? { customer: customer.stripeCustomerId, ...(options.automaticTax ? { customer_update: { address: "auto" } } : {}) }
      : email
        ? { customer_email: email }
        : {}),
    ...(options.automaticTax ? { automatic_tax: { enabled: true } } : {}),
    ...(options.promotionCodes ? { allow_promotion_codes: true } : {}),
  };
  let session: Stripe.Checkout.Session;
  try {
    session = await stripeClient().checkout.sessions.create(params, { timeout: 10_000, maxNetworkRetries: 1 });
  } catch (err) {
    throw stripeUnavailable(err);
  }
  if (!session.url) throw new AppError("UNAVAILABLE", "Stripe made a checkout session without a page to send you to.");
  return { url: session.url, sessionId: session.id };
}

function stripeUnavailable(err: unknown) {
  if (err instanceof PermanentEventError) return new AppError("NOT_CONFIGURED", "Payments are not set up on this shop yet.");
  console.warn(`[keystead] checkout could not reach Stripe: ${describeError(err)}`);
  return new AppError("UNAVAILABLE", "Payments cannot be reached right now; please try again in a minute.");
}

const HEAL_ACTOR: Actor = { type: "system", id: "checkout-success" };
/** One Stripe read per session per this long, however often the page polls. */
const HEAL_MIN_INTERVAL_MS = 5_000;
const healHolder = globalThis as unknown as { __keysteadHeals?: Map<string, number> };

/**
 * The success page's question: is this session's license issued yet, and may this caller see it?
 * When our checkout made the session (the cookie) more than CHECKOUT_HEAL_AFTER_SECONDS ago and still nothing
 * is issued, the webhook is late or lost: the session is read from Stripe and issued here, by the same function
 * the webhook's processing calls (idempotent per line item, so the webhook arriving later, or at the same time,
 * issues nothing twice).
 */
export async function checkoutSessionStatus(
  db: Db,
  sessionId: string,
  who: { session: AppSession | null; cookie: string | null },
): Promise<CheckoutSessionStatus> {
  const proof = readCheckoutProof(who.cookie).get(sessionId);
  let rows = await sessionLicenses(db, sessionId);
  if (rows.length === 0 && proof !== undefined && Date.now() - proof >= env().CHECKOUT_HEAL_AFTER_SECONDS * 1000) {
    if (await heal(db, sessionId)) rows = await sessionLicenses(db, sessionId);
  }
  const status = rows.length > 0 ? "complete" : "processing";
  const mine = proof !== undefined || (who.session?.customerId != null && rows.length > 0 && rows.every((r) => r.customerId === who.session!.customerId));
  if (!mine) return { status, licenses: [], visible: false, email: null };
  return {
    status,
    visible: true,
    email: rows[0]?.email ?? null,
    licenses: await Promise.all(
      rows
      .filter((r) => r.status !== "revoked")
      .map(async (r) => ({
        id: r.id,
        key: revealLicenseKey(r.keyCiphertext),
        product: r.product,
        productName: r.productName,
        plan: r.plan,
        planName: r.planName,
        status: r.status,
        maxActivations: r.maxActivations,
        expiresAt: r.expiresAt?.toISOString() ?? null,
        entitlements: r.entitlements,
        downloads: (await listLicenseDownloads(db, r.id))?.downloads ?? [],
      })),
    ),
  };
}

function sessionLicenses(db: Db, sessionId: string) {
  return db
    .select({
      id: licenses.id,
      keyCiphertext: licenses.keyCiphertext,
      customerId: licenses.customerId,
      email: customers.email,
      status: licenses.status,
      maxActivations: licenses.maxActivations,
      expiresAt: licenses.expiresAt,
      product: products.slug,
      productName: products.name,
      plan: plans.slug,
      planName: plans.name,
      entitlements: plans.entitlements,
    })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(licenses.stripeCheckoutSessionId, sessionId))
    .orderBy(asc(licenses.createdAt));
}

/** Reads the session from Stripe and issues what it paid for; true when it issued (or found) licenses. */
async function heal(db: Db, sessionId: string): Promise<boolean> {
  const heals = (healHolder.__keysteadHeals ??= new Map());
  const last = heals.get(sessionId) ?? 0;
  if (Date.now() - last < HEAL_MIN_INTERVAL_MS) return false;
  heals.set(sessionId, Date.now());
  if (heals.size > 10_000) heals.clear();
  try {
    const snapshot = await readCheckoutSession(stripeClient(), sessionId);
    if (!isPaid(snapshot.paymentStatus)) return false;
    // The same issuing as the webhook's processing, in one transaction (licenses, payment, the email job).
    const result = await db.transaction((tx) => issueCheckoutLicenses(tx, HEAL_ACTOR, snapshot));
    console.info(`[keystead] checkout ${sessionId}: the webhook had not arrived; issued ${result.licenseIds.length} license(s) from the success page`);
    return true;
  } catch (err) {
    console.warn(`[keystead] checkout ${sessionId}: could not heal from the success page: ${describeError(err)}`);
    return false;
  }
}
