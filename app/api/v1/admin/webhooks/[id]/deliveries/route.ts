// GET /api/v1/admin/webhooks/{id}/deliveries?status=&cursor=&limit=: the delivery log, newest first.
import { db } from "@/server/db/client";
import { ListWebhookDeliveriesInput, listWebhookDeliveries } from "@/server/domain/webhooks/endpoints";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({ input: ListWebhookDeliveriesInput, scope: "read" }, async ({ params, input }) => ({
  body: await listWebhookDeliveries(db(), params.id!, input),
}));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
