// GET /api/v1/admin/stripe/events: the Stripe events received, newest first.
import { db } from "@/server/db/client";
import { listStripeEvents } from "@/server/domain/admin/events";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listStripeEvents, async ({ input }) => ({ body: await listStripeEvents(db(), input) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
