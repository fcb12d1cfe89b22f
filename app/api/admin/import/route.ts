// POST /api/admin/import: the admin app's upload (same query and answer as POST /api/v1/admin/import).
import { db } from "@/server/db/client";
import { IMPORT_MAX_BYTES, ImportQuery, startImport } from "@/server/domain/import";
import { readBodyText } from "@/server/rest/body";
import { requireAdminSession } from "@/server/rest/admin-session";
import { toErrorResponse } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  try {
    const actor = await requireAdminSession(req);
    const query = ImportQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
    const text = await readBodyText(req, IMPORT_MAX_BYTES);
    const { status, body } = await startImport(db(), actor, query, text);
    return Response.json(body, { status });
  } catch (err) {
    return toErrorResponse(err);
  }
}
