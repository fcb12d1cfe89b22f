// POST /api/v1/admin/webhooks/{id}/test: a "webhook.test" event to this endpoint only.
import { db } from "@/server/db/client";
import { sendTestWebhook } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute({}, async ({ actor, params }) => ({
  status: 202,
  body: await db().transaction((tx) => sendTestWebhook(tx, actor, params.id!)),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
