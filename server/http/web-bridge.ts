import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

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
 * The request body as a web stream that reads only as fast as it is read. Cancelling (the bounded reader
 * refusing a flood) stops reading but leaves the socket open, so the 413 still reaches the client: the
 * answer then closes the connection (`sendWebResponse`).
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once("end", () => controller.close());
      req.once("error", (err) => controller.error(err));
      // A client gone mid-body: the reader gets an error (a 400 nobody reads), not a wait that never ends.
      req.once("close", () => req.complete || controller.error(new Error("the client closed the connection mid-body")));
    },
    pull() {
      req.resume();
    },
    cancel() {
      req.pause();
    },
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
