// GET /api/v1/jwks (also /.well-known/jwks.json): defined in server/rest/license-routes.ts, which the door
// (server/http/door.ts) answers itself; this file serves it to a request that reaches Next some other way.
import { jwksRoute } from "@/server/rest/license-routes";

export const dynamic = "force-dynamic";

export const { GET, POST, PUT, PATCH, DELETE } = jwksRoute;
