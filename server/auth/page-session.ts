import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { db } from "@/server/db/client";
import { signInPath } from "./cookies";
import { sessionFromHeaders, type AppSession } from "./session";

/**
 * The session for server-rendered pages and layouts, looked up once per request (React cache), the same way
 * the tRPC context does it.
 */
export const getPageSession = cache(async (): Promise<AppSession | null> => sessionFromHeaders(db(), await headers()));

/**
 * A signed-in person, or a redirect to sign in that brings them back to the page they asked for (the proxy
 * passes that path along; `fallbackPath` is used when it cannot).
 */
export async function requirePageSession(fallbackPath: string): Promise<AppSession> {
  const session = await getPageSession();
  if (!session) {
    const path = (await headers()).get("x-keystead-path") ?? fallbackPath;
    redirect(signInPath(path.startsWith("/") ? path : fallbackPath));
  }
  return session;
}

/**
 * For admin pages that render data on the server: the admin's session, or null for a signed-in non-admin
 * (render nothing then; the admin layout already shows the "not an admin" page). Pages that load their data
 * through tRPC need not call it: every admin procedure checks again.
 */
export async function requireAdminPageSession(fallbackPath = "/admin"): Promise<AppSession | null> {
  const session = await requirePageSession(fallbackPath);
  return session.user.isAdmin ? session : null;
}
