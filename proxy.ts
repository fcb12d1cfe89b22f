import { NextResponse, type NextRequest } from "next/server";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, signInPath } from "@/server/auth/cookies";
import { env } from "@/server/env";
import { contentSecurityPolicy, newNonce, pageSecurityHeaders, type PagePolicy } from "@/server/security-headers";

/**
 * Every page: security headers, with a fresh script nonce (server/security-headers.ts).
 *
 * The admin app and the portal: anonymous visitors go to sign in, and come back to the page they asked for.
 * This only checks that a session cookie is present (no database here); the layouts check the session itself
 * (server/auth/page-session.ts) and every tRPC procedure checks it again.
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const e = env();
  const policy: PagePolicy = { dev: e.NODE_ENV === "development", https: e.APP_URL.startsWith("https://") };
  const csp = contentSecurityPolicy(newNonce(), policy);
  const headers = new Headers(request.headers);
  // Next takes the nonce for the scripts it renders from the request's own policy header.
  headers.set("content-security-policy", csp);

  let response: NextResponse;
  if (/^\/(admin|portal)(\/|$)/.test(pathname)) {
    const hasCookie = request.cookies.has(SESSION_COOKIE) || request.cookies.has(SECURE_SESSION_COOKIE);
    if (!hasCookie) {
      response = NextResponse.redirect(new URL(signInPath(pathname + search), request.url));
    } else {
      // The layouts need the path to send someone with a stale cookie back to it after signing in.
      headers.set("x-keystead-path", pathname + search);
      response = NextResponse.next({ request: { headers } });
    }
  } else {
    response = NextResponse.next({ request: { headers } });
  }
  for (const [name, value] of Object.entries(pageSecurityHeaders(pathname, csp, policy))) response.headers.set(name, value);
  return response;
}

export const config = {
  // Pages only: not the JSON routes (under /api, and the JWKS's well-known alias), the sign-in route handlers
  // (/signin/confirm/go, /signin/continue), Next's static files, or the icon. A request the proxy runs on has its
  // body buffered by Next (to hand it on), before any route can bound it: route handlers must stay outside.
  matcher: ["/((?!api/|\\.well-known/|signin/confirm/go|signin/continue|_next/static/|_next/image|favicon\\.ico$|icon\\.svg$).*)"],
};
