import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { errorField, logger, requestIdFrom, withRequestId } from "@/server/observability/log";
import { metrics } from "@/server/observability/metrics";
import type { RouteMethods } from "@/server/rest/handler";
import { isDualRoute, type DualRoute } from "@/server/rest/public-route";
import { resolveClientAddress, stampClientAddress } from "./client-address";
import { sendWebResponse, toWebRequest } from "./web-bridge";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Set on every answer the door gives itself, so an operator (and a test) can tell which side answered. */
const ANSWERED_BY_HEADER = "keystead-answered-by";

/**
 * What the door adds to its own answers that Next would have added to the same route's (next.config.mjs
 * gives every /api route nosniff).
 */
const OWN_ANSWER_HEADERS = { "x-content-type-options": "nosniff", [ANSWERED_BY_HEADER]: "door" };

/**
 * The process's one HTTP server. It owns the socket, so it is the only code that sees the connection's real
 * peer: it decides the client's address once (TRUST_PROXY rules in ./client-address.ts) and stamps it on the
 * request in place of anything the client sent under that name.
 *
 * `routes` (the public license routes, server/rest/license-routes.ts) it answers itself, by exact path and
 * method, calling the same route code Next's route files export: those are what every copy of a customer's
 * software calls at every launch, and Next's request machinery costs several times our own work there.
 * Every other request (pages, tRPC, next-auth, the management API, HEAD and OPTIONS) goes to `next`.
 */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Every request also gets a request id (a sane X-Request-Id it came with, or a new one), echoed in the answer
 * and on every log line written while serving it, and is timed into keystead_http_request_duration_seconds
 * under its route template (`routeLabel`), never its raw path.
 */
export function createDoor(opts: {
  trustProxy: number;
  next: NodeHandler;
  routes?: Record<string, RouteMethods>;
  routeLabel?: (url: string) => string;
}): http.Server {
  const routes = opts.routes ?? {};
  const routeLabel = opts.routeLabel ?? ((url: string) => (ownRoute(routes, { url, method: "GET" } as IncomingMessage) ? url.split("?")[0]! : "other"));
  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req.url ?? "/");
      const method = METHODS.has(req.method ?? "") ? req.method! : "OTHER";
      metrics().httpDuration.observe({ method, route, status: String(res.statusCode) }, seconds);
      // The template, not the URL: a query string or a path can carry a token (sign-in links do).
      const log = logger();
      if (log.isLevelEnabled("debug")) withRequestId(requestId, () => log.debug({ method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, "request"));
    });
    withRequestId(requestId, () => serve(req, res));
  });

  function serve(req: IncomingMessage, res: ServerResponse) {
    const address = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], opts.trustProxy);
    stampClientAddress(req.headers, address);
    const route = ownRoute(routes, req);
    const answered = !route ? opts.next(req, res) : isDualRoute(route) ? answerNative(route, req, res, address) : answerHere(route, req, res);
    answered.catch((err: unknown) => {
      logger().error({ err: errorField(err), route: routeLabel(req.url ?? "/") }, "[keystead] request failed");
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ error: { code: "INTERNAL", message: "Something went wrong on our side; it has been logged." } }));
      } else {
        res.destroy();
      }
    });
  }
}

function ownRoute(routes: Record<string, RouteMethods>, req: IncomingMessage) {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const methods = routes[q === -1 ? url : url.slice(0, q)];
  return methods && Object.hasOwn(methods, req.method!) ? methods[req.method as keyof RouteMethods] : undefined;
}

/** A route with a node:http entry (the license routes, server/rest/public-route.ts): no web objects at all. */
async function answerNative(route: DualRoute, req: IncomingMessage, res: ServerResponse, address: string) {
  const answer = await route.node(req, address);
  const headers: Record<string, string | number> = { ...answer.headers, ...OWN_ANSWER_HEADERS, "content-length": answer.body.byteLength };
  // A body we stopped reading (a refused flood) cannot be skipped to reach the next request on this connection.
  if (!req.complete) headers.connection = "close";
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** Any other route of the door's (downloads, ops): through web Request and Response, as Next would call it. */
async function answerHere(route: (req: Request) => Promise<Response>, req: IncomingMessage, res: ServerResponse) {
  await sendWebResponse(req, res, await route(toWebRequest(req)), OWN_ANSWER_HEADERS);
}
