// DELETE /api/v1/admin/tokens/{id}: revoke a token.
import { db } from "@/server/db/client";
import { revokeApiToken } from "@/server/domain/admin/api-tokens";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const DELETE = adminRoute(API.revokeApiToken, async ({ actor, params }) => ({
  body: { token: await db().transaction((tx) => revokeApiToken(tx, actor, params.id!)) },
}));

export const { GET, POST, PUT, PATCH } = methodNotAllowed("DELETE");
