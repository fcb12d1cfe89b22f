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
