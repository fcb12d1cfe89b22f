// POST /api/v1/admin/stripe/events/{id}/replay: processes a stored event again (server/domain/admin/events.ts).
import { db } from "@/server/db/client";
import { replayStripeEvent } from "@/server/domain/admin/events";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.replayStripeEvent, async ({ actor, params }) => {
  const event = await db().transaction((tx) => replayStripeEvent(tx, actor, params.id!));
  return { status: 202, body: { event } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
