// POST /api/v1/admin/plans/{slug}/retire (the rules: server/domain/catalog/plans.ts setPlanRetired).
import { db } from "@/server/db/client";
import { setPlanRetired } from "@/server/domain/catalog/plans";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.retirePlan, async ({ actor, params }) => {
  const plan = await db().transaction((tx) => setPlanRetired(tx, actor, { plan: params.slug!, retired: true }));
  return { body: { plan } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
