// POST /api/admin-app/releases: the admin app's upload form (multipart/form-data, with progress). The same
// uploadRelease as POST /api/v1/admin/releases, behind the admin session instead of a bearer token. Under
// /api so proxy.ts never buffers the body (it streams to DATA_DIR).
import { fromAnotherSite } from "@/server/auth/same-site";
import { sessionFromHeaders } from "@/server/auth/session";
import { db } from "@/server/db/client";
import { adminActor } from "@/server/domain/admin/audit";
import { AppError } from "@/server/domain/errors";
import { uploadRelease } from "@/server/domain/releases/catalog";
import { limit, methodNotAllowed, toErrorResponse } from "@/server/rest/handler";
import { clientIp } from "@/server/rest/rate-limit";
import { env } from "@/server/env";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  try {
    // A cross-site form could carry the admin's cookie: refuse it before reading a byte.
    if (fromAnotherSite(req.headers)) throw new AppError("FORBIDDEN", "Uploads can only be made from this site's own pages.");
    const session = await sessionFromHeaders(db(), req.headers);
    if (!session) {
      // Like the management API's failed tokens: rate limited per client address.
      await limit(`admin-auth-fail:${clientIp(req)}`, env().RATE_LIMIT_IP);
      throw new AppError("UNAUTHORIZED", "Sign in first.");
    }
    if (!session.user.isAdmin) throw new AppError("FORBIDDEN", "This needs an admin account.");
    const release = await uploadRelease(db(), adminActor(session.user.email), req);
    return Response.json({ release }, { status: 201 });
  } catch (err) {
    return toErrorResponse(err);
  }
}

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
