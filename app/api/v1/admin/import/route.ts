// POST /api/v1/admin/import?format=&plan=&mapping=&dryRun=1 (scope admin): the body is the file as the platform
// sent it. A dry run answers counts and every refused row; an import of a large file answers 202 with its id.
import { db } from "@/server/db/client";
import { IMPORT_MAX_BYTES, ImportQuery, startImport } from "@/server/domain/import";
import { adminRoute } from "@/server/rest/admin";
import { readBodyText } from "@/server/rest/body";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute({}, async ({ actor, req }) => {
  const query = ImportQuery.parse(Object.fromEntries(new URL(req.url).searchParams));
  const text = await readBodyText(req, IMPORT_MAX_BYTES);
  return startImport(db(), actor, query, text);
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
