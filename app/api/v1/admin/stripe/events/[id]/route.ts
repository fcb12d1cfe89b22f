// GET /api/v1/admin/stripe/events/{id}
import { db } from "@/server/db/client";
import { getStripeEvent } from "@/server/domain/admin/events";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.getStripeEvent, async ({ params }) => ({ body: await getStripeEvent(db(), params.id!) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
