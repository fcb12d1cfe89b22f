import { NextResponse, type NextRequest } from "next/server";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, signInPath } from "@/server/auth/cookies";

/**
 * Anonymous visitors to the admin app or the portal go to sign in, and come back to the page they asked for.
 * This only checks that a session cookie is present (no database here); the layouts check the session itself
 * (server/auth/page-session.ts) and every tRPC procedure checks it again.
 */
export function proxy(request: NextRequest) {
  const hasCookie = request.cookies.has(SESSION_COOKIE) || request.cookies.has(SECURE_SESSION_COOKIE);
  const path = request.nextUrl.pathname + request.nextUrl.search;
  if (!hasCookie) {
    return NextResponse.redirect(new URL(signInPath(path), request.url));
  }
  // The layouts need the path to send someone with a stale cookie back to it after signing in.
  const headers = new Headers(request.headers);
  headers.set("x-keystead-path", path);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  matcher: ["/admin", "/admin/:path*", "/portal", "/portal/:path*"],
};
