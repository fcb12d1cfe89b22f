// GET /api/v1/admin/signing-keys: the offline-token signing keys (public halves) and their state.
import { db } from "@/server/db/client";
import { listSigningKeys } from "@/server/domain/admin/settings";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listSigningKeys, async () => ({ body: { data: await listSigningKeys(db()), nextCursor: null } }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
