// POST /api/v1/admin/stripe/reconcile: queues a reconciliation run now instead of waiting for its schedule.
import { db } from "@/server/db/client";
import { requestStripeReconcile } from "@/server/domain/admin/stripe-reconcile";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.reconcileStripe, async () => {
  await requestStripeReconcile(db());
  return { status: 202, body: { queued: true } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
