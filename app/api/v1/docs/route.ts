// GET /api/v1/docs: the OpenAPI document as a browsable reference page (server/rest/api-reference.ts). Public,
// like the document it shows.
import { methodNotAllowed } from "@/server/rest/handler";
import { referencePage } from "@/server/rest/api-reference";

export const dynamic = "force-dynamic";

export function GET() {
  return referencePage();
}

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
