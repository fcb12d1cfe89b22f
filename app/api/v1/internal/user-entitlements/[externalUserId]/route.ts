// GET /api/v1/internal/user-entitlements/{externalUserId}: the storefront's licenses of one user (Key Commander).
import { db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { ExternalUserIdParam, listUserEntitlements } from "@/server/domain/integrations/key-commander";
import { internalRoute } from "@/server/rest/internal";

export const GET = internalRoute({}, async ({ params }) => ({
  body: await listUserEntitlements(db(), ExternalUserIdParam.parse(params.externalUserId), now()),
}));

export const dynamic = "force-dynamic";
