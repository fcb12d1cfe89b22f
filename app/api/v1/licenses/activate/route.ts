// POST /api/v1/licenses/activate: 201 new activation, 200 when this machine was already activated.
import { db } from "@/server/db/client";
import { activateLicense } from "@/server/domain/licensing/activate";
import { ActivateLicenseInput } from "@/server/domain/licensing/inputs";
import { countUsage } from "@/server/domain/usage/counter";
import { methodNotAllowed, publicJsonRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = publicJsonRoute({ name: "activate", input: ActivateLicenseInput, key: (i) => i.key }, async (input) => {
  const { status, ...body } = await activateLicense(db(), input);
  if (status === 201) countUsage("activations", db);
  return { status, body };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
