// GET, POST /api/v1/admin/licenses
import { db } from "@/server/db/client";
import { ListLicensesQuery, listLicenses } from "@/server/domain/licensing/list";
import { IssueManualLicenseInput, issueManualLicense } from "@/server/domain/licensing/manual";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({ input: ListLicensesQuery }, async ({ input }) => ({
  body: await listLicenses(db(), input),
}));

// The only answer besides the customer's own views that carries the full key.
export const POST = adminRoute({ input: IssueManualLicenseInput }, async ({ actor, input }) => {
  const { license, key } = await db().transaction((tx) => issueManualLicense(tx, actor, input));
  return { status: 201, body: { license, key } };
});

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
