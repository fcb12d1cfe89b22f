// POST /api/v1/licenses/deactivate: frees this machine's seat.
import { db } from "@/server/db/client";
import { deactivateLicense } from "@/server/domain/licensing/deactivate";
import { DeactivateLicenseInput } from "@/server/domain/licensing/inputs";
import { methodNotAllowed, publicJsonRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = publicJsonRoute({ name: "deactivate", input: DeactivateLicenseInput, key: (i) => i.key }, async (input) => ({
  body: await deactivateLicense(db(), input),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
