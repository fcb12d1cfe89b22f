// GET, POST /api/v1/admin/licenses
import { db } from "@/server/db/client";
import { listLicenses } from "@/server/domain/licensing/list";
import { issueManualLicense } from "@/server/domain/licensing/manual";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listLicenses, async ({ input }) => ({
  body: await listLicenses(db(), input),
}));

// The only answer besides the customer's own views that carries the full key.
export const POST = adminRoute(API.issueLicense, async ({ actor, input }) => {
  const { license, key } = await db().transaction((tx) => issueManualLicense(tx, actor, input));
  return { status: 201, body: { license, key } };
});

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
