// DELETE /api/v1/admin/licenses/{id}/activations/{activationId}: frees one machine's seat
// (the rules: server/domain/licensing/admin-actions.ts deactivateActivation).
import { db } from "@/server/db/client";
import { deactivateActivation } from "@/server/domain/licensing/admin-actions";
import { getLicenseWithActivations } from "@/server/domain/licensing/list";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const DELETE = adminRoute(API.freeActivation, async ({ actor, params }) => {
  const body = await db().transaction(async (tx) => {
    await deactivateActivation(tx, actor, params.id!, { activationId: params.activationId! });
    return getLicenseWithActivations(tx, params.id!);
  });
  return { body };
});

export const { GET, POST, PUT, PATCH } = methodNotAllowed("DELETE");
