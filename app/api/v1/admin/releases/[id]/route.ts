// DELETE /api/v1/admin/releases/{id}: the release's row and its file.
import { db } from "@/server/db/client";
import { deleteRelease } from "@/server/domain/releases/catalog";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const DELETE = adminRoute({}, async ({ actor, params }) => ({ body: await deleteRelease(db(), actor, { releaseId: params.id! }) }));

export const { GET, POST, PUT, PATCH } = methodNotAllowed("DELETE");
