// GET /api/admin/import/{id}: the admin app's progress poll (as GET /api/v1/admin/import/{id}).
import { db } from "@/server/db/client";
import { getImportJob } from "@/server/domain/import";
import { requireAdminSession } from "@/server/rest/admin-session";
import { toErrorResponse } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  try {
    const actor = await requireAdminSession(req);
    return Response.json(await getImportJob(db(), (await ctx.params).id), { headers: { "Cache-Control": "no-store" } });
  } catch (err) {
    return toErrorResponse(err);
  }
}
