// GET /api/v1/admin/audit: the audit log, newest first.
import { db } from "@/server/db/client";
import { listAudit } from "@/server/domain/admin/audit";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listAudit, async ({ input }) => ({ body: await listAudit(db(), input) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
