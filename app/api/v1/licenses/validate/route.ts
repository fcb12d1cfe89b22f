// POST /api/v1/licenses/validate: every outcome is a 200 answer with a code (CONTRACT.md).
import { db } from "@/server/db/client";
import { ValidateLicenseInput } from "@/server/domain/licensing/inputs";
import { validateLicense } from "@/server/domain/licensing/validate";
import { methodNotAllowed, publicJsonRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = publicJsonRoute({ name: "validate", input: ValidateLicenseInput, key: (i) => i.key }, async (input) => ({
  body: await validateLicense(db(), input),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
