// POST /api/v1/admin/licenses/{id}/change-plan (the rules: server/domain/licensing/admin-actions.ts changeLicensePlan).
// Beside [action]: a static segment wins.
import { db } from "@/server/db/client";
import { changeLicensePlan } from "@/server/domain/licensing/admin-actions";
import { getLicenseWithActivations } from "@/server/domain/licensing/list";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.changeLicensePlan, async ({ actor, params, input }) => {
  const body = await db().transaction(async (tx) => {
    await changeLicensePlan(tx, actor, params.id!, input);
    return getLicenseWithActivations(tx, params.id!);
  });
  return { body };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
