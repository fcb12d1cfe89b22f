// POST /api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry: try a pending or failed delivery again now.
import { db } from "@/server/db/client";
import { retryWebhookDelivery } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute({}, async ({ actor, params }) => ({
  status: 202,
  body: await db().transaction((tx) => retryWebhookDelivery(tx, actor, params.id!, params.deliveryId!)),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
