// PATCH /api/v1/admin/plans/{slug}: change a plan (the fields given; the slug itself never changes).
import { db } from "@/server/db/client";
import { updatePlan } from "@/server/domain/catalog/plans";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const PATCH = adminRoute(API.updatePlan, async ({ actor, params, input }) => {
  const plan = await db().transaction((tx) => updatePlan(tx, actor, { ...input, plan: params.slug! }));
  return { body: { plan } };
});

export const { GET, POST, PUT, DELETE } = methodNotAllowed("PATCH");
