// GET /api/v1/releases/download?r=&l=&e=&s=: defined in server/rest/license-routes.ts, which the door
// (server/http/door.ts) answers itself; this file serves it to a request that reaches Next some other way
// (and HEAD, which the door hands to Next).
import { downloadRoute } from "@/server/rest/license-routes";

export const dynamic = "force-dynamic";

export const { POST, GET, PUT, PATCH, DELETE } = downloadRoute;
export const HEAD = downloadRoute.GET;
