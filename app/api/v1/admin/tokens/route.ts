// GET, POST /api/v1/admin/tokens: management API tokens (server/domain/admin/api-tokens.ts).
import { db } from "@/server/db/client";
import { createApiToken, listApiTokens } from "@/server/domain/admin/api-tokens";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listApiTokens, async () => ({ body: { data: await listApiTokens(db()), nextCursor: null } }));

// The secret is in this answer only.
export const POST = adminRoute(API.createApiToken, async ({ actor, input }) => ({
  status: 201,
  body: await db().transaction((tx) => createApiToken(tx, actor, input)),
}));

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
