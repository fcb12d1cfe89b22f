// POST /api/v1/admin/emails/{id}/retry: send a failed or waiting email again now (server/domain/admin/emails.ts).
import { db } from "@/server/db/client";
import { retryEmail } from "@/server/domain/admin/emails";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.retryEmail, async ({ actor, params }) => {
  const email = await db().transaction((tx) => retryEmail(tx, actor, params.id!));
  return { status: 202, body: { email } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
