// GET, PATCH, DELETE /api/v1/admin/webhooks/{id}: one endpoint; PATCH changes url, events, description, enabled.
import { db } from "@/server/db/client";
import { deleteWebhook, getWebhook, UpdateWebhookInput, updateWebhook } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({ scope: "read" }, async ({ params }) => ({ body: await getWebhook(db(), params.id!) }));

export const PATCH = adminRoute({ input: UpdateWebhookInput }, async ({ actor, params, input }) => ({
  body: await db().transaction((tx) => updateWebhook(tx, actor, params.id!, input)),
}));

export const DELETE = adminRoute({}, async ({ actor, params }) => ({
  body: await db().transaction((tx) => deleteWebhook(tx, actor, params.id!)),
}));

export const { POST, PUT } = methodNotAllowed("GET", "PATCH", "DELETE");
