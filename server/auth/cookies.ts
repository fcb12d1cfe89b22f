/**
 * next-auth 4's session cookie: "__Secure-" prefixed when the app is served over https. Kept free of imports
 * so the proxy (proxy.ts) can use it without pulling in the database layer.
 */
export const SESSION_COOKIE = "next-auth.session-token";
export const SECURE_SESSION_COOKIE = "__Secure-next-auth.session-token";

export const sessionCookieNameFor = (appUrl: string) => (appUrl.startsWith("https://") ? SECURE_SESSION_COOKIE : SESSION_COOKIE);

/** Where to send someone who must sign in first, and where to bring them back afterwards. */
export function signInPath(callbackPath: string): string {
  return `/signin?${new URLSearchParams({ callbackUrl: callbackPath })}`;
}
