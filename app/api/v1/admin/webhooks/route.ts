// GET, POST /api/v1/admin/webhooks: the outgoing webhook endpoints (server/domain/webhooks/endpoints.ts).
import { db } from "@/server/db/client";
import { CreateWebhookInput, createWebhook, listWebhooks } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({ scope: "read" }, async () => ({ body: await listWebhooks(db()) }));

// The answer carries the signing secret: the only time it is shown.
export const POST = adminRoute({ input: CreateWebhookInput }, async ({ actor, input }) => ({
  status: 201,
  body: await db().transaction((tx) => createWebhook(tx, actor, input)),
}));

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
