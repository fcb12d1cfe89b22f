import { and, eq, gt, sql } from "drizzle-orm";
import { customers, sessions, users } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { env } from "@/server/env";
import { sessionCookieNameFor } from "./cookies";
import { hashSessionToken } from "./hashed-adapter";

/**
 * Who is signed in, read straight from next-auth's database session: one indexed query by the hash of the cookie's
 * token (the table stores only that hash, see hashed-adapter.ts).
 * Used by the tRPC context and by server-rendered pages, so both decide the same way. `isAdmin` comes from
 * ADMIN_EMAILS at each request (removing an email takes effect at once, no sign-out needed); `customerId` is
 * the customer with the same email (case-insensitive), or null for someone who has bought nothing yet.
 */
export type AppSession = { user: { id: string; email: string; isAdmin: boolean }; customerId: string | null };

/** next-auth marks its cookies __Secure- when the app is served over https (we pass the same flag to it). */
export function useSecureCookies(appUrl = env().APP_URL): boolean {
  return appUrl.startsWith("https://");
}

export function sessionCookieName(appUrl = env().APP_URL): string {
  return sessionCookieNameFor(appUrl);
}

export function isAdminEmail(email: string, adminEmails = env().ADMIN_EMAILS): boolean {
  return adminEmails.includes(email.trim().toLowerCase());
}

/** The session behind a session token, or null when there is none or it has expired. */
export async function loadAppSession(db: DbOrTx, sessionToken: string | null | undefined): Promise<AppSession | null> {
  if (!sessionToken || sessionToken.length > 512) return null;
  const [row] = await db
    .select({ userId: users.id, email: users.email, customerId: customers.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    // The unique index on lower(email) makes this an index lookup.
    .leftJoin(customers, sql`lower(${customers.email}) = lower(${users.email})`)
    // Wall-clock time: session expiry is a security boundary, not a business rule tests move around.
    .where(and(eq(sessions.sessionToken, hashSessionToken(sessionToken)), gt(sessions.expires, sql`now()`)))
    .limit(1);
  if (!row) return null;
  return {
    user: { id: row.userId, email: row.email, isAdmin: isAdminEmail(row.email) },
    customerId: row.customerId,
  };
}

/** The session token from a Cookie header. */
export function sessionTokenFromCookieHeader(cookieHeader: string | null | undefined, name = sessionCookieName()): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return null;
    }
  }
  return null;
}

export function sessionFromHeaders(db: DbOrTx, headers: Headers): Promise<AppSession | null> {
  return loadAppSession(db, sessionTokenFromCookieHeader(headers.get("cookie")));
}
