import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { nodeBody } from "@/server/rest/body";

/**
 * node:http <-> the web Request/Response the route code takes and returns, for the routes the door answers
 * itself. Only what those routes read is carried over: method, path, headers, and the body as a stream (read
 * through the one bounded reader, server/rest/body.ts, like any other).
 */

// The host is not read by any route the door answers (signed answers cover the path); a fixed one keeps a
// client's Host header out of URL parsing.
const BASE = "http://localhost";

export function toWebRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (typeof value === "string") headers.set(name, value);
    else if (value) for (const v of value) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(BASE + req.url, {
    method: req.method,
    headers,
    body: hasBody ? bodyStream(req) : undefined,
    // Node's fetch requires it for a streamed body.
    duplex: "half",
  } as RequestInit);
}

/**
 * The request body as a web stream over the bounded reader's own node:http source (server/rest/body.ts,
 * `nodeBody`): read only as fast as it is read; cancelling (a refused flood) stops reading but leaves the socket
 * open, so the 413 still reaches the client (the answer then closes the connection: `sendWebResponse`).
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  const reader = nodeBody(req);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done || !value) controller.close();
      else controller.enqueue(value);
    },
    cancel: () => reader.cancel(),
  });
}

/**
 * Writes `response` to `res`. The routes' answers are small JSON, written in one piece; an answer that
 * announces its own Content-Length with a body (a release download, server/domain/releases/serve.ts) is
 * streamed instead, as fast as the client reads it, so a 500 MB file never sits in memory.
 */
export async function sendWebResponse(req: IncomingMessage, res: ServerResponse, response: Response, extraHeaders: Record<string, string>) {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  for (const name in extraHeaders) res.setHeader(name, extraHeaders[name]!);
  // A body we stopped reading (a refused flood) cannot be skipped to reach the next request on this connection.
  if (!req.complete) res.setHeader("connection", "close");
  if (response.body && response.headers.has("content-length")) {
    try {
      await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>), res);
    } catch {
      // The client went away mid-download: pipeline has closed the file and the socket; nothing to answer.
    }
    return;
  }
  const body = Buffer.from(await response.arrayBuffer());
  res.setHeader("content-length", body.byteLength);
  res.end(body);
}
