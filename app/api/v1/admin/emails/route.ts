// GET /api/v1/admin/emails: the outbox, newest first.
import { db } from "@/server/db/client";
import { listEmails } from "@/server/domain/admin/emails";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listEmails, async ({ input }) => ({ body: await listEmails(db(), input) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
