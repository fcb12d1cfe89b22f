// GET, POST /api/v1/admin/releases
import { db } from "@/server/db/client";
import { listReleases, uploadRelease } from "@/server/domain/releases/catalog";
import { ListReleasesQuery } from "@/server/domain/releases/inputs";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({ input: ListReleasesQuery }, async ({ input }) => ({ body: { data: await listReleases(db(), input) } }));

// multipart/form-data: the file streams to DATA_DIR (server/domain/releases/upload.ts), never into memory.
export const POST = adminRoute({}, async ({ actor, req }) => ({ status: 201, body: { release: await uploadRelease(db(), actor, req) } }));

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
