// GET /api/v1/openapi.json: the OpenAPI 3.1 document (server/rest/openapi.ts). Public: it describes, it grants nothing.
import { methodNotAllowed } from "@/server/rest/handler";
import { openApiDocument } from "@/server/rest/openapi";

export const dynamic = "force-dynamic";

export function GET() {
  return Response.json(openApiDocument());
}

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
