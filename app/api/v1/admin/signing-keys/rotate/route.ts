// POST /api/v1/admin/signing-keys/rotate (the rules: server/domain/admin/settings.ts rotateSigningKeys).
import { db } from "@/server/db/client";
import { rotateSigningKeys } from "@/server/domain/admin/settings";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.rotateSigningKey, async ({ actor }) => ({
  body: await db().transaction((tx) => rotateSigningKeys(tx, actor)),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
