// POST /api/v1/admin/licenses/{id}/activation-file: a seat and its activation file for a machine that never
// goes online (the rules: server/domain/licensing/activation-file.ts). Beside [action]: a static segment wins.
import { db } from "@/server/db/client";
import { createActivationFile } from "@/server/domain/licensing/activation-file";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.createActivationFile, async ({ actor, params, input }) => {
  const { activation, file, expiresAt } = await createActivationFile(db(), actor, { ...input, licenseId: params.id! });
  return { status: 201, body: { activation, file, expiresAt } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
