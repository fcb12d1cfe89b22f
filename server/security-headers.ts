/**
 * The headers every page answers with. Pure functions of the request path and a few settings, so the proxy
 * (proxy.ts) applies them and tests can read what a page must carry.
 *
 * Scripts: a fresh nonce per request. Next reads it from the request's Content-Security-Policy header and puts
 * it on every script it renders; 'strict-dynamic' lets those scripts load the page's chunks. No inline script
 * without the nonce runs, which is what stops an injected one. Styles allow 'unsafe-inline': React renders
 * style attributes, which a nonce cannot cover, and an injected style cannot run code.
 */
export type PagePolicy = {
  /** Development: React's dev build evaluates code (its error overlays); never in production. */
  dev: boolean;
  /** APP_URL is https: browsers are told to come back over https only. */
  https: boolean;
};

export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
}

export function contentSecurityPolicy(nonce: string, policy: PagePolicy): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${policy.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    // Nobody may frame a page: no clickjacking of the admin app's buttons.
    "frame-ancestors 'none'",
    ...(policy.https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** The response headers of a page at `path`, given its Content-Security-Policy. */
export function pageSecurityHeaders(path: string, csp: string, policy: PagePolicy): Record<string, string> {
  return {
    "Content-Security-Policy": csp,
    // For browsers too old for frame-ancestors.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    // A sign-in link carries its token in the URL: the confirm page tells other sites nothing, not even our
    // origin. (Not no-referrer: that would also send its own sign-in POST with `Origin: null`, which is refused.)
    "Referrer-Policy": path.startsWith("/signin/confirm") ? "same-origin" : "strict-origin-when-cross-origin",
    ...(policy.https ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}
