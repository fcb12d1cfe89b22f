// POST /api/v1/releases/latest: defined in server/rest/license-routes.ts, which the door (server/http/door.ts)
// answers itself; this file serves it to a request that reaches Next some other way.
import { latestReleaseRoute } from "@/server/rest/license-routes";

export const dynamic = "force-dynamic";

export const { POST, GET, PUT, PATCH, DELETE } = latestReleaseRoute;
