import { fromAnotherSite } from "@/server/auth/same-site";
import { sessionFromHeaders } from "@/server/auth/session";
import { db } from "@/server/db/client";
import { adminActor } from "@/server/domain/admin/audit";
import type { Actor } from "@/server/domain/audit/record";
import { AppError } from "@/server/domain/errors";
import { env } from "@/server/env";
import { limit, refuseIfOver } from "./handler";
import { clientIp } from "./rate-limit";

/** Failed admin authentications from one address, by session or by bearer token: one bucket for both doors. */
export const adminAuthFailBucket = (req: Request) => `admin-auth-fail:${clientIp(req)}`;

/**
 * The admin app's doors outside tRPC (file uploads, imports, export downloads: bodies tRPC does not carry), behind
 * the same cookie session as its pages; the management API's bearer tokens are not accepted here. In order:
 * - a request that changes something must come from this site's own pages (a cross-site form could carry the
 *   admin's cookie): refused before a byte of its body is read;
 * - no session: 401, each such failure counted against the client's address (RATE_LIMIT_IP) in the management
 *   API's bucket for bad tokens; an address over it is refused before its session is even looked up;
 * - a session that is not an admin's: 403.
 * Returns the admin as the audit log's actor.
 */
export async function requireAdminSession(req: Request): Promise<Actor> {
  if (req.method !== "GET" && req.method !== "HEAD" && fromAnotherSite(req.headers)) {
    throw new AppError("FORBIDDEN", "This can only be done from this site's own admin pages.");
  }
  await refuseIfOver(adminAuthFailBucket(req), env().RATE_LIMIT_IP);
  const session = await sessionFromHeaders(db(), req.headers);
  if (!session) {
    await limit(adminAuthFailBucket(req), env().RATE_LIMIT_IP);
    throw new AppError("UNAUTHORIZED", "Sign in as an admin first.");
  }
  if (!session.user.isAdmin) throw new AppError("FORBIDDEN", "This needs an admin account.");
  return adminActor(session.user.email);
}
