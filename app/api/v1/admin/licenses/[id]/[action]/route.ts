// POST /api/v1/admin/licenses/{id}/{action}: suspend, reinstate, revoke, extend, reset-activations, rotate-key,
// change-seats (the rules: server/domain/licensing/lifecycle.ts).
import { db } from "@/server/db/client";
import { AppError } from "@/server/domain/errors";
import { applyLicenseAction, licenseAction } from "@/server/domain/licensing/lifecycle";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

// The scope of every action (the route table lists each: server/rest/api-routes.ts).
export const POST = adminRoute({ scope: "licenses:write" }, async ({ actor, params, body }) => {
  // An unknown action is a 404 whatever the body holds.
  if (!licenseAction(params.action!)) throw new AppError("NOT_FOUND", `There is no license action "${params.action}".`);
  const input = await body();
  const result = await db().transaction((tx) => applyLicenseAction(tx, actor, params.id!, params.action!, input));
  return { body: result };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
