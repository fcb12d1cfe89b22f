// GET /api/v1/admin/licenses/{id}
import { db } from "@/server/db/client";
import { getLicenseWithActivations } from "@/server/domain/licensing/list";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.getLicense, async ({ params }) => ({
  body: await getLicenseWithActivations(db(), params.id!),
}));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
