import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { RouteMethods } from "@/server/rest/handler";
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
export function createDoor(opts: { trustProxy: number; next: NodeHandler; routes?: Record<string, RouteMethods> }): http.Server {
  const routes = opts.routes ?? {};
  return http.createServer((req, res) => {
    stampClientAddress(req.headers, resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], opts.trustProxy));
    const route = ownRoute(routes, req);
    const answered = route ? answerHere(route, req, res) : opts.next(req, res);
    answered.catch((err: unknown) => {
      console.error(`[keystead] request for ${req.url} failed:`, err);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ error: { code: "INTERNAL", message: "Something went wrong on our side; it has been logged." } }));
      } else {
        res.destroy();
      }
    });
  });
}

function ownRoute(routes: Record<string, RouteMethods>, req: IncomingMessage) {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const methods = routes[q === -1 ? url : url.slice(0, q)];
  return methods && Object.hasOwn(methods, req.method!) ? methods[req.method as keyof RouteMethods] : undefined;
}

async function answerHere(route: (req: Request) => Promise<Response>, req: IncomingMessage, res: ServerResponse) {
  await sendWebResponse(req, res, await route(toWebRequest(req)), OWN_ANSWER_HEADERS);
}
