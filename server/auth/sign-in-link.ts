import crypto from "node:crypto";
import type { DbOrTx } from "@/server/db/client";
import { queueEmail } from "@/server/domain/mail/queue";
import { env } from "@/server/env";
import { mac, open, seal, sha256Hex } from "@/server/domain/secret-box";
import { fromAnotherSite } from "./same-site";
import { useSecureCookies } from "./session";

/**
 * The email sign-in link travels through the same outbox and worker as every other email (so in dev it lands
 * in the dev mailbox, in tests at the SMTP catcher). The link is a bearer secret, so the outbox row stores it
 * sealed with a key derived from AUTH_SECRET; only the send job opens it. Rebuilding it from a stored token
 * id is not possible: next-auth keeps only a hash of the token.
 */
const PURPOSE = "sign-in-link";

export async function queueSignInLink(db: DbOrTx, input: { to: string; url: string; token: string; expires: Date }) {
  return queueEmail(db, {
    // One email per link: a retried request for the same token collapses; a new request is a new token.
    dedupeKey: `sign-in-link:${sha256Hex(input.token)}`,
    template: "sign-in-link",
    to: input.to,
    props: { sealedUrl: seal(PURPOSE, input.url), expiresAt: input.expires.toISOString() },
  });
}

/** The link back in clear; throws if it was sealed under another AUTH_SECRET. */
export function openSignInUrl(sealedUrl: string): string {
  return open(PURPOSE, sealedUrl).toString("utf8");
}

/**
 * The address we email is a confirm page, not next-auth's callback itself: mail security scanners (Outlook
 * Safe Links, corporate gateways) open every link in an email, and opening the callback uses up the one-time
 * token before the person clicks. The page only shows a button; the button POSTs, which scanners do not do,
 * and only then is the token spent. The page carries next-auth's own parameters unchanged.
 */
const CALLBACK_PATH = "/api/auth/callback/email";
export const CONFIRM_PATH = "/signin/confirm";
/** The parameters of next-auth's callback that the confirm step carries; nothing else passes through. */
export const CALLBACK_PARAMS = ["callbackUrl", "token", "email"] as const;

export function confirmPageUrl(nextAuthUrl: string): string {
  const url = new URL(nextAuthUrl);
  url.pathname = url.pathname.endsWith(CALLBACK_PATH) ? url.pathname.slice(0, -CALLBACK_PATH.length) + CONFIRM_PATH : CONFIRM_PATH;
  return url.toString();
}

/** The link's own parameters (nothing else passes through), or null when the token or email is missing. */
function linkParams(get: (name: string) => unknown): URLSearchParams | null {
  const params = new URLSearchParams();
  for (const name of CALLBACK_PARAMS) {
    const value = get(name);
    if (typeof value === "string" && value.length > 0 && value.length <= 2048) params.set(name, value);
  }
  return params.has("token") && params.has("email") ? params : null;
}

/** next-auth's callback path for the confirmed parameters, or null when the token or email is missing. */
export function callbackPath(get: (name: string) => unknown): string | null {
  const params = linkParams(get);
  return params && `${CALLBACK_PATH}?${params}`;
}

/** The confirm page for the same parameters (or the bare page, which explains an incomplete link). */
export function confirmPagePath(get: (name: string) => unknown): string {
  const params = linkParams(get);
  return params ? `${CONFIRM_PATH}?${params}` : CONFIRM_PATH;
}

/**
 * The confirm button's post, checked: where next-auth's callback is, or why not. A form on another site must
 * not sign a visitor in to someone else's account with a link it holds (login CSRF): the post must come from
 * one of our pages (./same-site.ts).
 */
export function confirmedCallback(
  headers: Headers,
  get: (name: string) => unknown,
): { path: string; token: string } | { refused: "CROSS_SITE" | "INCOMPLETE" } {
  if (fromAnotherSite(headers)) return { refused: "CROSS_SITE" };
  const path = callbackPath(get);
  return path ? { path, token: get("token") as string } : { refused: "INCOMPLETE" };
}

/**
 * Proof that a request to next-auth's email callback came through our confirm button. Without it a crafted
 * link (GET, or a cross-site POST, to the callback with an attacker's own valid token) would sign the victim
 * in to the attacker's account. The button's answer sets this cookie, bound to the token by a MAC under
 * AUTH_SECRET; the callback runs only with a cookie matching its token. Another site cannot obtain the cookie
 * for a victim: only our same-site button post sets it, and SameSite=Lax keeps it off cross-site POSTs.
 * Scoped to the callback's path and short-lived: it is needed for one redirect.
 */
const CONFIRM_MAC_PURPOSE = "sign-in-confirmed";
const CONFIRM_COOKIE_MAX_AGE_SECONDS = 5 * 60;

/** "__Secure-" over https, so a page served over plain http (a network attacker) cannot set it. */
export const confirmCookieName = () => `${useSecureCookies() ? "__Secure-" : ""}keystead.sign-in-confirmed`;

function confirmCookie(value: string, maxAge: number): string {
  const secure = useSecureCookies() ? "; Secure" : "";
  return `${confirmCookieName()}=${value}; Path=${CALLBACK_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`;
}

/** The Set-Cookie value the confirm button's answer carries. */
export const confirmedCookie = (token: string) => confirmCookie(mac(CONFIRM_MAC_PURPOSE, token), CONFIRM_COOKIE_MAX_AGE_SECONDS);

/** The Set-Cookie value that removes it once the callback has run. */
export const clearedConfirmedCookie = () => confirmCookie("", 0);

/** Whether the cookie proves the button was pressed for this very token. */
export function cameThroughConfirm(cookie: string | undefined, token: string | null): boolean {
  if (!cookie || !token) return false;
  const expected = Buffer.from(mac(CONFIRM_MAC_PURPOSE, token));
  const given = Buffer.from(cookie);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
