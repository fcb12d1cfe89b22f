// POST /api/admin-app/releases: the admin app's upload form (multipart/form-data, with progress). The same
// uploadRelease as POST /api/v1/admin/releases, behind the admin session instead of a bearer token. Under
// /api so proxy.ts never buffers the body (it streams to DATA_DIR).
import { db } from "@/server/db/client";
import { uploadRelease } from "@/server/domain/releases/catalog";
import { requireAdminSession } from "@/server/rest/admin-session";
import { methodNotAllowed, toErrorResponse } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  try {
    const release = await uploadRelease(db(), await requireAdminSession(req), req);
    return Response.json({ release }, { status: 201 });
  } catch (err) {
    return toErrorResponse(err);
  }
}

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
