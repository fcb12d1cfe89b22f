import { db } from "@/server/db/client";
import { sessionFromHeaders } from "@/server/auth/session";
import { fromAnotherSite } from "@/server/auth/same-site";
import type { Actor } from "@/server/domain/audit/record";
import { adminActor as adminActorOf } from "@/server/domain/admin/audit";
import { errorResponse } from "@/server/rest/handler";

/**
 * The admin app's doors to the import (the upload is a raw file body, which tRPC does not carry): behind the
 * admin session, and only from our own pages (a cross-site form could otherwise post a file with the admin's
 * cookie). The management API's bearer tokens use /api/v1/admin/import instead.
 */
export async function adminActor(req: Request): Promise<Actor | Response> {
  if (req.method !== "GET" && fromAnotherSite(req.headers)) return errorResponse("FORBIDDEN", "Imports are started from the admin app only.", 403);
  const session = await sessionFromHeaders(db(), req.headers);
  if (!session) return errorResponse("UNAUTHORIZED", "Sign in as an admin to import.", 401);
  if (!session.user.isAdmin) return errorResponse("FORBIDDEN", "Imports need an admin account.", 403);
  return adminActorOf(session.user.email);
}
