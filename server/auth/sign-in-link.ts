import type { DbOrTx } from "@/server/db/client";
import { queueEmail } from "@/server/domain/mail/queue";
import { env } from "@/server/env";
import { open, seal, sha256Hex } from "@/server/domain/secret-box";

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

/** next-auth's callback path for the confirmed parameters, or null when the token or email is missing. */
export function callbackPath(get: (name: string) => unknown): string | null {
  const params = new URLSearchParams();
  for (const name of CALLBACK_PARAMS) {
    const value = get(name);
    if (typeof value === "string" && value.length > 0 && value.length <= 2048) params.set(name, value);
  }
  if (!params.has("token") || !params.has("email")) return null;
  return `${CALLBACK_PATH}?${params}`;
}

/**
 * The confirm button's post, checked: where next-auth's callback is, or why not. A form on another site must
 * not sign a visitor in to someone else's account with a link it holds (login CSRF): browsers name the page
 * that posted in Origin, and it must be ours.
 */
export function confirmedCallback(
  origin: string | null,
  get: (name: string) => unknown,
): { path: string } | { refused: "CROSS_SITE" | "INCOMPLETE" } {
  if (origin !== null && origin !== new URL(env().APP_URL).origin) return { refused: "CROSS_SITE" };
  const path = callbackPath(get);
  return path ? { path } : { refused: "INCOMPLETE" };
}
