import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { resolveClientAddress, stampClientAddress } from "./client-address";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The process's one HTTP server. It owns the socket, so it is the only code that sees the connection's real
 * peer: it decides the client's address once (TRUST_PROXY rules in ./client-address.ts), stamps it on the
 * request in place of anything the client sent under that name, and hands the request to Next.
 *
 * Everything is routed to `next` today. Answering the hottest routes here, without Next's machinery, would be a
 * second handler tried before it, calling the same route code with the same stamped address.
 */
export function createDoor(opts: { trustProxy: number; next: NodeHandler }): http.Server {
  return http.createServer((req, res) => {
    stampClientAddress(req.headers, resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], opts.trustProxy));
    opts.next(req, res).catch((err: unknown) => {
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
