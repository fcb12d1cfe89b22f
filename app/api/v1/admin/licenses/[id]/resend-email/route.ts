// POST /api/v1/admin/licenses/{id}/resend-email: the license email again, with the current key (queued).
import { db } from "@/server/db/client";
import { resendLicenseEmail } from "@/server/domain/licensing/admin-actions";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.resendLicenseEmail, async ({ actor, params }) => {
  const { outboxId, to } = await db().transaction((tx) => resendLicenseEmail(tx, actor, params.id!));
  return { status: 202, body: { outboxId, to } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
