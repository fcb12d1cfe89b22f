import crypto from "node:crypto";
import { checkReady } from "@/server/domain/health";
import { env } from "@/server/env";
import { metricsText } from "@/server/observability/metrics";
import { errorResponse, limit, methodNotAllowed, toErrorResponse, type RouteMethods } from "./handler";
import { clientIp } from "./rate-limit";

/**
 * The operator's routes, answered by the door itself (no Next machinery: a probe or a scrape must stay cheap and
 * must answer even when pages would not).
 */

// GET /api/ready: 200 when this process can serve (database, migrations, worker), 503 otherwise (CONTRACT.md).
export const readyRoute: RouteMethods = {
  ...methodNotAllowed("GET"),
  GET: async (req) => {
    try {
      await limit(`ip:${clientIp(req)}`, env().RATE_LIMIT_IP);
      const ready = await checkReady();
      return Response.json(ready, { status: ready.ok ? 200 : 503, headers: { "Cache-Control": "no-store" } });
    } catch (err) {
      return toErrorResponse(err);
    }
  },
};

// GET /metrics: Prometheus text, behind `Authorization: Bearer <METRICS_TOKEN>`; no token set: 404, as if absent.
export const metricsRoute: RouteMethods = {
  ...methodNotAllowed("GET"),
  GET: async (req) => {
    try {
      const token = env().METRICS_TOKEN;
      if (!token) return errorResponse("NOT_FOUND", "There is nothing here.", 404);
      await limit(`ip:${clientIp(req)}`, env().RATE_LIMIT_IP);
      if (!sameToken(/^Bearer\s+(.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1]?.trim() ?? "", token)) {
        return errorResponse("UNAUTHORIZED", "Send Authorization: Bearer <METRICS_TOKEN>.", 401, {
          headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
        });
      }
      const { contentType, body } = await metricsText();
      return new Response(body, { status: 200, headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
    } catch (err) {
      return toErrorResponse(err);
    }
  },
};

function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => crypto.createHash("sha256").update(s).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

export const opsRoutes: Record<string, RouteMethods> = {
  "/api/ready": readyRoute,
  "/metrics": metricsRoute,
};
