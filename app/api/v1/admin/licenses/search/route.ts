// GET /api/v1/admin/licenses/search?q=&field=: by key, key hint, email, fingerprint or customer (the rules:
// server/domain/admin/search.ts, the admin app's search). Beside [id]: a static segment wins.
import { db } from "@/server/db/client";
import { searchLicenses } from "@/server/domain/admin/search";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.searchLicenses, async ({ input }) => ({ body: await searchLicenses(db(), input) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
