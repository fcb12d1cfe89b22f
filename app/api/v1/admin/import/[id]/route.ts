// GET /api/v1/admin/import/{id} (scope admin): an import's progress and, once done, its counts and refused rows.
import { db } from "@/server/db/client";
import { getImportJob } from "@/server/domain/import";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({}, async ({ params }) => ({ body: await getImportJob(db(), params.id!) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
