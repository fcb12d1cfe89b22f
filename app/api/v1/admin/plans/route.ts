// GET, POST /api/v1/admin/plans
import { db } from "@/server/db/client";
import { createPlan, listPlans } from "@/server/domain/catalog/plans";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listPlans, async () => ({ body: { data: await listPlans(db()), nextCursor: null } }));

export const POST = adminRoute(API.createPlan, async ({ actor, input }) => {
  const plan = await db().transaction((tx) => createPlan(tx, actor, input));
  return { status: 201, body: { plan } };
});

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
