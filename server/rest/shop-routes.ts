import { db } from "@/server/db/client";
import { fromAnotherSite } from "@/server/auth/same-site";
import { sessionFromHeaders } from "@/server/auth/session";
import { AppError } from "@/server/domain/errors";
import {
  CheckoutSessionParams,
  CreateCheckoutInput,
  checkoutCookieName,
  checkoutProofCookie,
  checkoutSessionStatus,
  cookieValue,
  createCheckout,
} from "@/server/domain/shop/checkout";
import { ConfirmTrialInput, RequestTrialInput, confirmTrial, requestTrial } from "@/server/domain/shop/trials";
import { readBodyText } from "./body";
import { limit, readJson, toErrorResponse } from "./handler";
import { clientIp } from "./rate-limit";

/**
 * The storefront's unauthenticated routes (checkout, its success page's polling, trials). Each reads a bounded
 * body and is rate limited by client address before anything else; the rules live in server/domain/shop.
 */

const MAX_BODY_BYTES = 8 * 1024;
/** Per client address per minute. A buyer clicks Buy once or twice; the success page polls every 2 s. */
export const CHECKOUT_PER_MINUTE = 20;
export const SESSION_POLLS_PER_MINUTE = 90;
export const TRIAL_REQUESTS_PER_MINUTE = 5;
export const TRIAL_CONFIRMS_PER_MINUTE = 10;

const wantsJson = (req: Request) => /^application\/(.+\+)?json\b/i.test(req.headers.get("content-type") ?? "");

// POST /api/v1/checkout { price, email? }: a form post is answered 303 to Stripe Checkout; a JSON call 200 { url, sessionId }.
export async function checkoutPost(req: Request): Promise<Response> {
  const json = wantsJson(req);
  try {
    await limit(`checkout:${clientIp(req)}`, CHECKOUT_PER_MINUTE);
    let raw: unknown;
    if (json) raw = await readJson(req, MAX_BODY_BYTES);
    else {
      // The pricing page's Buy buttons are plain HTML forms (they work without JavaScript).
      const form = new URLSearchParams(await readBodyText(req, MAX_BODY_BYTES));
      raw = { price: form.get("price") ?? undefined, ...(form.get("email") ? { email: form.get("email") } : {}) };
    }
    const input = CreateCheckoutInput.parse(raw);
    const session = await sessionFromHeaders(db(), req.headers);
    const result = await createCheckout(db(), input, { session });
    const cookie = checkoutProofCookie(cookieValue(req.headers.get("cookie"), checkoutCookieName()), result.sessionId);
    if (json) return Response.json(result, { status: 200, headers: { "set-cookie": cookie, "cache-control": "no-store" } });
    return new Response(null, { status: 303, headers: { location: result.url, "set-cookie": cookie, "cache-control": "no-store" } });
  } catch (err) {
    if (!json && err instanceof AppError && err.code !== "RATE_LIMITED") {
      // A person on the pricing page: back to it, with the reason in words.
      return new Response(null, { status: 303, headers: { location: `/pricing?error=${encodeURIComponent(err.code)}` } });
    }
    return toErrorResponse(err);
  }
}

// GET /api/v1/checkout/sessions/{id}: { status, licenses } for the success page (keys only for the buyer).
export async function checkoutSessionGet(req: Request, id: string): Promise<Response> {
  try {
    await limit(`checkout-session:${clientIp(req)}`, SESSION_POLLS_PER_MINUTE);
    const { id: sessionId } = CheckoutSessionParams.parse({ id });
    const session = await sessionFromHeaders(db(), req.headers);
    const body = await checkoutSessionStatus(db(), sessionId, { session, cookie: cookieValue(req.headers.get("cookie"), checkoutCookieName()) });
    // Keys in the answer: never cached anywhere.
    return Response.json(body, { headers: { "cache-control": "no-store", "referrer-policy": "no-referrer" } });
  } catch (err) {
    return toErrorResponse(err);
  }
}

// POST /api/v1/trials { plan, email } -> 202, whatever the address (a confirm link is emailed when it may start one).
export async function trialsPost(req: Request): Promise<Response> {
  try {
    await limit(`trials:${clientIp(req)}`, TRIAL_REQUESTS_PER_MINUTE);
    const input = RequestTrialInput.parse(await readJson(req, MAX_BODY_BYTES));
    return Response.json(await requestTrial(db(), input), { status: 202 });
  } catch (err) {
    return toErrorResponse(err);
  }
}

// POST /api/v1/trials/confirm { token }: the confirm page's button; issues the trial license and answers its key.
export async function trialsConfirmPost(req: Request): Promise<Response> {
  try {
    await limit(`trials-confirm:${clientIp(req)}`, TRIAL_CONFIRMS_PER_MINUTE);
    // Only our own confirm page may spend a link (a page elsewhere could otherwise start trials in a visitor's name).
    if (fromAnotherSite(req.headers)) throw new AppError("FORBIDDEN", "Trial links can only be confirmed on this site.");
    const input = ConfirmTrialInput.parse(await readJson(req, MAX_BODY_BYTES));
    return Response.json(await confirmTrial(db(), input), { headers: { "cache-control": "no-store" } });
  } catch (err) {
    return toErrorResponse(err);
  }
}
