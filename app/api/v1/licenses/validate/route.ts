// POST /api/v1/licenses/validate: every outcome is a 200 answer with a code (CONTRACT.md).
import { db } from "@/server/db/client";
import { ValidateLicenseInput } from "@/server/domain/licensing/inputs";
import { validateLicense } from "@/server/domain/licensing/validate";
import { countUsage } from "@/server/domain/usage/counter";
import { methodNotAllowed, publicJsonRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = publicJsonRoute({ name: "validate", input: ValidateLicenseInput, key: (i) => i.key }, async (input) => {
  // Counted in memory and flushed every few seconds: no write on this hot path.
  countUsage("validations", db);
  return { body: await validateLicense(db(), input) };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
