// POST /api/admin/import: the admin app's upload (same query and answer as POST /api/v1/admin/import).
import { db } from "@/server/db/client";
import { IMPORT_MAX_BYTES, ImportQuery, startImport } from "@/server/domain/import";
import { readBodyText } from "@/server/rest/body";
import { toErrorResponse } from "@/server/rest/handler";
import { adminActor } from "./admin-session";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  try {
    const actor = await adminActor(req);
    if (actor instanceof Response) return actor;
    const query = ImportQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
    const text = await readBodyText(req, IMPORT_MAX_BYTES);
    const { status, body } = await startImport(db(), actor, query, text);
    return Response.json(body, { status });
  } catch (err) {
    return toErrorResponse(err);
  }
}
