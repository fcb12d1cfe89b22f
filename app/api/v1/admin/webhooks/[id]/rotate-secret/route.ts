// POST /api/v1/admin/webhooks/{id}/rotate-secret: a new secret (shown once); the old one signs too for 24 hours.
import { db } from "@/server/db/client";
import { rotateWebhookSecret } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute({}, async ({ actor, params }) => ({
  body: await db().transaction((tx) => rotateWebhookSecret(tx, actor, params.id!)),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
