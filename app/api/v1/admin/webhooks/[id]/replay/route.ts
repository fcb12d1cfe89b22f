// POST /api/v1/admin/webhooks/{id}/replay { deliveryId } | { since }: send events again (same webhook-id).
import { db } from "@/server/db/client";
import { ReplayWebhookInput, replayWebhook } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute({ input: ReplayWebhookInput }, async ({ actor, params, input }) => ({
  status: 202,
  body: await db().transaction((tx) => replayWebhook(tx, actor, params.id!, input)),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
