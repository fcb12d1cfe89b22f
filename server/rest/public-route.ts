import type { IncomingMessage } from "node:http";
import { nodeBody, readBodyBytes, readBounded } from "./body";
import { clientIp } from "./rate-limit";

/**
 * The public license routes are served by two doors with one definition: the process's node:http door answers
 * them itself (server/http/door.ts: no web Request, Headers, stream or Response is made on that path), and
 * Next's route files export the same route for a request that reaches Next some other way. Both reach the
 * route through this narrow request and answer shape.
 */

/** What a public route reads of a request. */
export type PublicRequest = {
  method: string;
  /** The path, without the query. */
  path: string;
  /** A header's value by its lower-case name (the first, if it was sent more than once). */
  header(name: string): string | undefined;
  /** The client's address, as the door decided it (TRUST_PROXY); never read from a header here. */
  clientIp: string;
  /** The body, through the one bounded reader (./body.ts). */
  body(maxBytes: number): Promise<Buffer>;
};

/** A route's whole answer: its status, headers (lower-case names) and exact body bytes. */
export type PublicAnswer = { status: number; headers: Record<string, string>; body: Buffer };

export type PublicCore = (req: PublicRequest) => Promise<PublicAnswer>;

/** A route both doors serve: the web handler Next's route files export, with the door's own entry on it. */
export type DualRoute = ((req: Request) => Promise<Response>) & {
  node: (req: IncomingMessage, clientIp: string) => Promise<PublicAnswer>;
};

export function dualRoute(core: PublicCore): DualRoute {
  const web = async (req: Request) => toWebResponse(await core(fromWebRequest(req)));
  return Object.assign(web, { node: (req: IncomingMessage, address: string) => core(fromNodeRequest(req, address)) });
}

export function isDualRoute(route: unknown): route is DualRoute {
  return typeof route === "function" && typeof (route as Partial<DualRoute>).node === "function";
}

function fromWebRequest(req: Request): PublicRequest {
  return {
    method: req.method,
    path: new URL(req.url).pathname,
    header: (name) => req.headers.get(name) ?? undefined,
    clientIp: clientIp(req),
    body: (maxBytes) => readBodyBytes(req, maxBytes),
  };
}

function fromNodeRequest(req: IncomingMessage, address: string): PublicRequest {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return {
    method: req.method ?? "GET",
    path: q === -1 ? url : url.slice(0, q),
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
    clientIp: address,
    body: (maxBytes) => {
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      return readBounded(Number(req.headers["content-length"] ?? "0"), hasBody ? nodeBody(req) : null, maxBytes);
    },
  };
}

function toWebResponse(answer: PublicAnswer): Response {
  return new Response(new Uint8Array(answer.body), { status: answer.status, headers: answer.headers });
}

/** A JSON answer's bytes and headers. */
export function jsonAnswer(status: number, body: unknown, headers?: Record<string, string>): PublicAnswer {
  return { status, headers: { "content-type": "application/json", ...lowerCased(headers) }, body: Buffer.from(JSON.stringify(body)) };
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) out[name.toLowerCase()] = headers[name]!;
  return out;
}
